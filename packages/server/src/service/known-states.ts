// The newest state this instance saved or read per user, as its JSON text (immutable, so
// no caller can change it afterwards), bounded in characters. A patch starts from it
// instead of reading the store first: the save's If-Match (revision and epoch) proves it
// was still current, so a patch costs one store call while nobody else wrote meanwhile.
//
// Only users who patched lately are remembered: most users never patch (the browser
// client sends whole states), and keeping every saver's ~10 KB of text alive made each
// save leave old-space garbage for the full GCs (bench/README, issue 21). A user's first
// patch (or the first after a quiet spell) reads the store, as any patch of a state not
// known here does, and from then on their saves are remembered again.
import type { StateScope } from '../scope.js';

export interface KnownState {
  stateJson: string;
  revision: number;
  savedAt: number;
  epoch: string;
}

/** Characters of state JSON kept in all. @default 16 Mi */
const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;
/** How long after a user's last patch their saves are remembered. @default 10 min */
const DEFAULT_PATCHER_MS = 10 * 60 * 1000;
/** Users marked as patching at most (the least recently patching go first). */
const MAX_PATCHERS = 100_000;

export class KnownStates {
  /** By channel, least recently remembered first. */
  private readonly states = new Map<string, KnownState>();
  private chars = 0;
  /** By channel, when each user last patched, least recent first. */
  private readonly patchers = new Map<string, number>();

  constructor(
    private readonly maxChars = DEFAULT_MAX_CHARS,
    private readonly patcherMs = DEFAULT_PATCHER_MS,
    private readonly maxPatchers = MAX_PATCHERS,
  ) {}

  get(scope: StateScope): KnownState | undefined {
    return this.states.get(scope.channel);
  }

  /** The user patches (at `now`): their states are remembered for a while from now on. */
  patching(scope: StateScope, now: number): void {
    this.patchers.delete(scope.channel);
    this.patchers.set(scope.channel, now);
    if (this.patchers.size <= this.maxPatchers) return;
    for (const channel of this.patchers.keys()) {
      this.patchers.delete(channel);
      this.forget({ channel });
      if (this.patchers.size <= this.maxPatchers) break;
    }
  }

  /** Remembers the user's newest state if they patched lately; forgets it otherwise. */
  remember(scope: StateScope, known: KnownState, now: number): void {
    this.forget(scope);
    const patched = this.patchers.get(scope.channel);
    if (patched === undefined) return;
    if (now - patched > this.patcherMs) {
      this.patchers.delete(scope.channel);
      return;
    }
    if (known.stateJson.length > this.maxChars / 4) return;
    this.states.set(scope.channel, known);
    this.chars += known.stateJson.length;
    for (const [channel, oldest] of this.states) {
      if (this.chars <= this.maxChars) break;
      this.states.delete(channel);
      this.chars -= oldest.stateJson.length;
    }
  }

  forget(scope: Pick<StateScope, 'channel'>): void {
    const known = this.states.get(scope.channel);
    if (known === undefined) return;
    this.states.delete(scope.channel);
    this.chars -= known.stateJson.length;
  }
}
