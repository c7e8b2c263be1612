// Write coalescing for fan-out: decides WHEN each socket's outbox writes what it holds.
// A socket quiet for a window is written at the end of the turn; one written again
// within the window (a hot channel: many saves a second watched by many screens) waits
// until the window since its last write has passed. Its outbox meanwhile keeps only
// what the socket still needs (latest wins, see socket-outbox.ts), so under load a
// socket costs one `write` per window whatever the change rate. The kernel charges per
// `write` call far more than per byte (loopback profile: ~50 % of fan-out CPU was `write`).
// The window trades writes for wait: with what waits sent as one message (the newest
// state, or one patch to it), a reader waits at most a window for a change, and the one
// it is shown is at most one save interval old when it leaves, so a longer window costs
// little latency and saves writes. Only a channel changing faster than the window (more
// than 25 changes a second: one browser sends at most 10) is ever held. `npm run bench`
// fan-out (variants as systems of one run, 3 rounds each): 20 ms 453 saves/s and patch p99
// 55.9 ms against 40 ms 530 and 55.1 ms (Socket.IO 266, 77.5 ms); whole-state p99 at
// 20 / 30 / 40 ms: 112 / 68 / 56 ms (Socket.IO 71).
// Written here rather than taken from a library: it is the product's fan-out core.
import { DEFAULT_COALESCE_WINDOW_MS } from '../../options.js';

export { DEFAULT_COALESCE_WINDOW_MS };

/** What the coalescer releases: writes everything it holds, if it can, and says whether it wrote. */
export interface Flushable {
  flush(): boolean;
}

/** One socket's place in the coalescer. */
export interface CoalescedWriter {
  readonly target: Flushable;
  /** When it last wrote (coalescer clock), or -Infinity. */
  flushedAt: number;
  /** Waiting for its turn or its window: scheduling again changes nothing. */
  scheduled: boolean;
}

export interface WriteCoalescerOptions {
  /**
   * A socket written to again within this many ms of its last write waits for the rest
   * of the window; 0 writes every turn's changes at the end of the turn. @default 40
   */
  windowMs?: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * Sockets written in one go before the rest of a batch yields to I/O. A hot channel's
 * batch is every screen watching it (~20 µs of kernel time each on loopback): written in
 * one go, 1,000 sockets would hold saves and incoming changes back for ~20 ms; between
 * slices they are handled, and a socket still waiting picks up what just arrived. 16
 * rather than 64: saves wait less behind a batch (bench fan-out, saves taken a second
 * with 16 / 64 at the same window: 468 / 451, 500 / 493, 558 / 530).
 */
export const RELEASE_SLICE = 16;

export class WriteCoalescer {
  readonly windowMs: number;
  private readonly now: () => number;
  /** Scheduled in this turn after a quiet spell: flushed when the turn ends. */
  private turn: CoalescedWriter[] = [];
  /** Scheduled within the window of their last write: flushed when the timer fires. */
  private held: CoalescedWriter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Batches being released a slice at a time, for `flush` to finish. */
  private readonly slicing = new Set<CoalescedWriter[]>();

  constructor(options: WriteCoalescerOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_COALESCE_WINDOW_MS;
    if (!Number.isFinite(this.windowMs) || this.windowMs < 0) {
      throw new RangeError(`windowMs must be a finite number ≥ 0 (got ${this.windowMs})`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** A handle for `target`, to pass to `schedule` whenever it has something to write. */
  track(target: Flushable): CoalescedWriter {
    return { target, flushedAt: Number.NEGATIVE_INFINITY, scheduled: false };
  }

  /** Asks for `entry.target.flush()` at the end of the turn, or when its window ends. */
  schedule(entry: CoalescedWriter): void {
    if (entry.scheduled) return;
    entry.scheduled = true;
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

  /** Sockets waiting to write right now (for tests and metrics). */
  get holding(): number {
    let sliced = 0;
    for (const entries of this.slicing) sliced += entries.filter((entry) => entry.scheduled).length;
    return this.turn.length + this.held.length + sliced;
  }

  /** Flushes every waiting socket now (shutdown: nothing waits for a timer or a slice). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const entries of this.slicing) {
      this.release(
        entries.filter((entry) => entry.scheduled),
        0,
        false,
      );
    }
    this.slicing.clear();
    this.release(this.takeHeld(), 0, false);
    this.release(this.takeTurn(), 0, false);
  }

  private readonly releaseTurn = (): void => {
    this.release(this.takeTurn());
  };

  private readonly releaseHeld = (): void => {
    this.timer = undefined;
    this.release(this.takeHeld());
  };

  // Swapped first: a socket scheduled while flushing belongs to the next batch.
  private takeTurn(): CoalescedWriter[] {
    const entries = this.turn;
    this.turn = [];
    return entries;
  }

  private takeHeld(): CoalescedWriter[] {
    const entries = this.held;
    this.held = [];
    return entries;
  }

  /** Flushes `entries` from `start`, a slice per turn (all at once when `sliced` is false). */
  private release(entries: CoalescedWriter[], start = 0, sliced = true): void {
    const end = sliced ? Math.min(entries.length, start + RELEASE_SLICE) : entries.length;
    if (start >= end) return;
    const now = this.now();
    for (let index = start; index < end; index++) {
      const entry = entries[index] as CoalescedWriter;
      entry.scheduled = false;
      // Only a real write opens a new window: a socket whose previous write is still in
      // flight is scheduled again by its outbox when that write completes.
      if (entry.target.flush()) entry.flushedAt = now;
    }
    if (end < entries.length) {
      // Still `scheduled`, the rest keep their place (a change for them joins what waits).
      this.slicing.add(entries);
      setImmediate(() => {
        // Gone from the set: `flush` wrote them meanwhile.
        if (this.slicing.delete(entries)) this.release(entries, end);
      });
    }
  }
}
