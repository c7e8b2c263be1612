// Write coalescing for fan-out. A socket's frames are corked and leave in one write:
// at the end of the turn when the socket has been quiet for a window, else (a hot
// channel: many saves a second watched by many screens) when the window since its
// last write has passed. The kernel charges per `write` call far more than per byte
// (loopback profile: ~50 % of fan-out CPU was `write`), so under load k changes to a
// socket cost one call instead of k; a quiet socket is written at once, as before.
// Written here rather than taken from a library: it is the product's fan-out core, and
// it must keep ws's frame order (it only corks the TCP socket under ws's sender).

import type { Corkable } from '../corkable.js';

/** One socket's place in the coalescer. */
export interface CoalescedStream {
  readonly stream: Corkable;
  /** When its held writes last left (coalescer clock), or -Infinity. */
  flushedAt: number;
  corked: boolean;
}

export interface WriteCoalescerOptions {
  /**
   * A socket written to again within this many ms of its last write waits for the rest
   * of the window; 0 writes every turn's frames at the end of the turn. @default 20
   */
  windowMs?: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

export const DEFAULT_COALESCE_WINDOW_MS = 20;

export class WriteCoalescer {
  readonly windowMs: number;
  private readonly now: () => number;
  /** Corked in this turn after a quiet spell: released when the turn ends. */
  private turn: CoalescedStream[] = [];
  /** Corked within the window of their last write: released when the timer fires. */
  private held: CoalescedStream[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(options: WriteCoalescerOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_COALESCE_WINDOW_MS;
    if (!Number.isFinite(this.windowMs) || this.windowMs < 0) {
      throw new RangeError(`windowMs must be a finite number ≥ 0 (got ${this.windowMs})`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** A handle for `stream`, to pass to `hold` before each write. */
  track(stream: Corkable): CoalescedStream {
    return { stream, flushedAt: Number.NEGATIVE_INFINITY, corked: false };
  }

  /** Corks the stream (once per batch) so the write that follows leaves with its batch. */
  hold(entry: CoalescedStream): void {
    if (entry.corked) return;
    entry.corked = true;
    entry.stream.cork();
    const now = this.now();
    const due = entry.flushedAt + this.windowMs;
    if (due > now) {
      // Released when the window since its last write ends (with every other held socket:
      // on a hot channel they were all written together, so their windows end together).
      if (this.held.length === 0) this.timer = setTimeout(this.releaseHeld, due - now);
      this.held.push(entry);
    } else {
      if (this.turn.length === 0) process.nextTick(this.releaseTurn);
      this.turn.push(entry);
    }
  }

  /** Sockets holding writes right now (for tests and metrics). */
  get holding(): number {
    return this.turn.length + this.held.length;
  }

  /** Releases every held write now (shutdown: nothing waits for a timer). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseHeld();
    this.releaseTurn();
  }

  private readonly releaseTurn = (): void => {
    // Swapped first: a write made while uncorking belongs to the next batch.
    const entries = this.turn;
    this.turn = [];
    this.release(entries);
  };

  private readonly releaseHeld = (): void => {
    this.timer = undefined;
    const entries = this.held;
    this.held = [];
    this.release(entries);
  };

  private release(entries: CoalescedStream[]): void {
    if (entries.length === 0) return;
    const now = this.now();
    for (const entry of entries) {
      entry.corked = false;
      entry.flushedAt = now;
      entry.stream.uncork();
    }
  }
}
