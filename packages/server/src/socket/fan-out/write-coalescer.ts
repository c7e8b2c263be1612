// Write coalescing for fan-out: decides WHEN each socket's outbox writes what it holds.
// A change is written at the end of its turn (leading edge: nothing waits for a timer),
// unless the socket is still busy with its previous one: its write is still in flight
// (the outbox holds the change, see socket-outbox.ts) or the batch it was written in (a
// hot channel's screens, released a slice per turn) is still being released. What
// changes meanwhile waits, the newest replacing older ones, and leaves with the next
// batch as one message. So coalescing follows the server's own pace instead of a clock:
// a socket is written at most once per batch however fast its channel changes, batches
// grow longer (and writes fewer) exactly when the CPU is short, and an idle server
// delivers at once. The kernel charges per `write` call far more than per byte (loopback
// profile: ~50 % of fan-out CPU was `write`), which is what the batch rule bounds.
// `WS_COALESCE_MS` adds a fixed least time between two writes to a socket; it was 40 ms
// until issue 21, whose bench measures staleness (how long each screen goes without
// each save, skipped states included): a window holds a state that a newer one will
// replace, and a screen then waits on average half a window for every save (bench
// fan-out, 5 quick rounds on a shared machine, staleness p50: 40 ms 39.2 ms, 10 ms 13.3,
// this rule 11.6, Socket.IO 11.5; see bench/README.md, History).
// Written here rather than taken from a library: it is the product's fan-out core.
import { DEFAULT_COALESCE_WINDOW_MS } from '../../options.js';

export { DEFAULT_COALESCE_WINDOW_MS };

/** What the coalescer releases: writes everything it holds, if it can, and says whether it wrote. */
export interface Flushable {
  flush(): boolean;
}

/** Sockets released together (a channel's screens), a slice per turn. */
interface Batch {
  readonly entries: CoalescedWriter[];
  /** Index of the first entry not yet released. */
  next: number;
  /** Every slice written: its sockets may be written again. */
  done: boolean;
  /** Written in this batch and changed again before it was done: scheduled when it is. */
  readonly after: CoalescedWriter[];
}

/** One socket's place in the coalescer. */
export interface CoalescedWriter {
  readonly target: Flushable;
  /** When it last wrote (coalescer clock), or -Infinity. */
  flushedAt: number;
  /** Waiting for its turn, its window or its batch: scheduling again changes nothing. */
  scheduled: boolean;
  /** The batch it was last written in (its next write waits until that batch is done). */
  writtenIn: Batch | undefined;
}

export interface WriteCoalescerOptions {
  /**
   * A socket written to again within this many ms of its last write waits for the rest
   * of the window; 0 (the default) writes a change at the end of its turn unless the
   * socket's batch is still being released.
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
  private readonly slicing = new Set<Batch>();

  constructor(options: WriteCoalescerOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_COALESCE_WINDOW_MS;
    if (!Number.isFinite(this.windowMs) || this.windowMs < 0) {
      throw new RangeError(`windowMs must be a finite number ≥ 0 (got ${this.windowMs})`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** A handle for `target`, to pass to `schedule` whenever it has something to write. */
  track(target: Flushable): CoalescedWriter {
    return {
      target,
      flushedAt: Number.NEGATIVE_INFINITY,
      scheduled: false,
      writtenIn: undefined,
    };
  }

  /**
   * Asks for `entry.target.flush()` at the end of the turn, once the batch it was last
   * written in is done, or when its window ends.
   */
  schedule(entry: CoalescedWriter): void {
    if (entry.scheduled) return;
    entry.scheduled = true;
    const batch = entry.writtenIn;
    if (batch !== undefined && !batch.done) {
      // Written in a batch still being released: what changes meanwhile waits (latest
      // wins in its outbox) and leaves with the next batch, so a socket is written at
      // most once per batch however fast its channel changes.
      batch.after.push(entry);
      return;
    }
    this.place(entry);
  }

  /** Into this turn's batch, or held for the rest of its window. */
  private place(entry: CoalescedWriter): void {
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
    for (const batch of this.slicing) {
      sliced += batch.entries.length - batch.next + batch.after.length;
    }
    return this.turn.length + this.held.length + sliced;
  }

  /** Flushes every waiting socket now (shutdown: nothing waits for a timer or a slice). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const unfinished = [...this.slicing];
    this.slicing.clear();
    for (const batch of unfinished) {
      batch.done = true;
      const waiting = batch.entries.splice(batch.next);
      batch.entries.length = 0;
      waiting.push(...batch.after.splice(0));
      this.release(waiting, false);
    }
    this.release(this.takeHeld(), false);
    this.release(this.takeTurn(), false);
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

  /** Flushes `entries` a slice per turn (all at once when `sliced` is false). */
  private release(entries: CoalescedWriter[], sliced = true): void {
    if (entries.length === 0) return;
    this.releaseSlices({ entries, next: 0, done: false, after: [] }, sliced);
  }

  private releaseSlices(batch: Batch, sliced: boolean): void {
    const { entries, next: start } = batch;
    const end = sliced ? Math.min(entries.length, start + RELEASE_SLICE) : entries.length;
    const now = this.now();
    for (let index = start; index < end; index++) {
      const entry = entries[index] as CoalescedWriter;
      entry.scheduled = false;
      // Only a real write opens a new window: a socket whose previous write is still in
      // flight is scheduled again by its outbox when that write completes.
      if (entry.target.flush()) {
        entry.flushedAt = now;
        entry.writtenIn = batch;
      }
    }
    batch.next = end;
    if (end < entries.length) {
      // Still `scheduled`, the rest keep their place (a change for them joins what waits).
      this.slicing.add(batch);
      setImmediate(() => {
        // Gone from the set: `flush` wrote them meanwhile.
        if (this.slicing.delete(batch)) this.releaseSlices(batch, true);
      });
      return;
    }
    batch.done = true;
    // Its sockets still point at it: it must not keep closed ones alive.
    entries.length = 0;
    // The sockets that changed while their batch was being written go next.
    for (const entry of batch.after.splice(0)) this.place(entry);
  }
}
