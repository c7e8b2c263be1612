// The newest state this instance saved or read per user, as its JSON text (immutable, so
// no caller can change it afterwards), bounded in characters. A patch starts from it
// instead of reading the store first: the save's If-Match (revision and epoch) proves it
// was still current, so a patch costs one store call while nobody else wrote meanwhile.
import type { StateScope } from '../scope.js';

export interface KnownState {
  stateJson: string;
  revision: number;
  savedAt: number;
  epoch: string;
}

/** Characters of state JSON kept in all. @default 16 Mi */
const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;

export class KnownStates {
  /** By channel, least recently remembered first. */
  private readonly states = new Map<string, KnownState>();
  private chars = 0;

  constructor(private readonly maxChars = DEFAULT_MAX_CHARS) {}

  get(scope: StateScope): KnownState | undefined {
    return this.states.get(scope.channel);
  }

  remember(scope: StateScope, known: KnownState): void {
    this.forget(scope);
    if (known.stateJson.length > this.maxChars / 4) return;
    this.states.set(scope.channel, known);
    this.chars += known.stateJson.length;
    for (const [channel, oldest] of this.states) {
      if (this.chars <= this.maxChars) break;
      this.states.delete(channel);
      this.chars -= oldest.stateJson.length;
    }
  }

  forget(scope: StateScope): void {
    const known = this.states.get(scope.channel);
    if (known === undefined) return;
    this.states.delete(scope.channel);
    this.chars -= known.stateJson.length;
  }
}
