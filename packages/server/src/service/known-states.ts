// The newest state this instance saved or read per user, bounded in bytes. A patch
// starts from it instead of reading the store first: the save's If-Match (revision and
// epoch) proves it was still current, so a patch costs one store call while nobody else
// wrote meanwhile. Kept as UTF-8 bytes, off the JavaScript heap: a state's text held
// until its user's next save outlives the young generation under load, so every save's
// 10 KB were promoted and collected by full GCs (the http-save profile charged ours
// ~57 µs of GC per save against the Redis floor's ~13; with bytes, ~20). Immutable as
// far as callers go: they get a fresh string.
import type { StateScope } from '../scope.js';

export interface KnownState {
  stateJson: string;
  revision: number;
  savedAt: number;
  epoch: string;
}

interface HeldState {
  bytes: Buffer;
  revision: number;
  savedAt: number;
  epoch: string;
}

/**
 * `text` in UTF-8, in a buffer of its own: a small one from Buffer.from shares Node's
 * 8 KiB pool, and holding it would hold the whole pool slab.
 */
function utf8Bytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  bytes.write(text, 'utf8');
  return bytes;
}

/** Bytes of state JSON kept in all. @default 16 MiB */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export class KnownStates {
  /** By channel, least recently remembered first. */
  private readonly states = new Map<string, HeldState>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  get(scope: StateScope): KnownState | undefined {
    const held = this.states.get(scope.channel);
    if (held === undefined) return undefined;
    const { bytes, revision, savedAt, epoch } = held;
    return { stateJson: bytes.toString('utf8'), revision, savedAt, epoch };
  }

  remember(scope: StateScope, known: KnownState): void {
    this.forget(scope);
    // A first cheap bound on the characters (a character is at least one byte).
    if (known.stateJson.length > this.maxBytes / 4) return;
    const bytes = utf8Bytes(known.stateJson);
    if (bytes.length > this.maxBytes / 4) return;
    const { revision, savedAt, epoch } = known;
    this.states.set(scope.channel, { bytes, revision, savedAt, epoch });
    this.bytes += bytes.length;
    for (const [channel, oldest] of this.states) {
      if (this.bytes <= this.maxBytes) break;
      this.states.delete(channel);
      this.bytes -= oldest.bytes.length;
    }
  }

  forget(scope: StateScope): void {
    const held = this.states.get(scope.channel);
    if (held === undefined) return;
    this.states.delete(scope.channel);
    this.bytes -= held.bytes.length;
  }
}
