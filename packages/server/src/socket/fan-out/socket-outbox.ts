// Latest-wins delivery of channel changes to one socket (conflation). A socket has at
// most one write in flight and holds at most what its reader still needs: a newer
// `state` / `deleted` replaces whatever was waiting, so a reader slower than the changes
// receives fewer messages but always ends at the newest state, and the server holds
// about two states per socket (the one being written, the one waiting) however far
// behind it falls. A socket that takes patches keeps a chain of waiting patches while
// they add up to less than the newest whole message (they are tiny: the common case on
// a hot channel); when the chain would break (a patch whose base the reader will not
// hold) or grow past that, the newest change goes whole instead. Whatever waits leaves
// as one message: a chain of patches as one patch to the newest state, a whole change
// followed by patches as the newest change whole. The reader lands on the newest state
// with one parse, and the states it skips are the ones latest-wins delivery skips.
import type { ChannelEvent } from '../../channel/channel-event.js';
import { composePatchMessages, type PatchMessage } from './patch-frame.js';
import type { CoalescedWriter, WriteCoalescer } from './write-coalescer.js';

/** One message for the socket: the change whole, or as a patch against its base. */
export interface OutgoingChange {
  readonly event: ChannelEvent;
  /** The shared patch message, or null: the change's whole message. */
  readonly patch: PatchMessage | null;
}

/** Where the outbox writes: one socket. */
export interface ChangeSink {
  /**
   * Writes the changes in order (in one write where it can); `done` once the last one
   * has been handed to the kernel, or with an error when the socket failed. Reads
   * `changes` before it returns: the outbox reuses the array.
   */
  write(changes: readonly OutgoingChange[], done: (error?: Error | null) => void): void;
}

export class SocketOutbox {
  /** Reused across writes (the sink reads it synchronously): no array per change. */
  private readonly waiting: OutgoingChange[] = [];
  /** The one change a write hands the sink (reused, as `waiting` is). */
  private readonly outgoing: OutgoingChange[] = [];
  /** Payload bytes of `waiting`. */
  private waitingBytes = 0;
  /** A write handed to the socket has not completed yet. */
  private inFlight = false;
  /** Revision of the last change written or waiting: the base a patch must name to join the chain. */
  private tailRevision: number | undefined;
  /**
   * Revision of the newest change handed to the socket (0: none since the last reset). A
   * message the socket sends directly after it reaches the reader after that change.
   */
  private handed = 0;
  private closed = false;
  private readonly entry: CoalescedWriter;
  /** Changes replaced before they were written (for logs and tests). */
  dropped = 0;

  constructor(
    private readonly sink: ChangeSink,
    private readonly coalescer: WriteCoalescer,
    /** Told how many waiting changes a newer one (or a reset) replaced, e.g. for metrics. */
    private readonly onReplaced: (count: number) => void = () => {},
  ) {
    this.entry = coalescer.track(this);
  }

  /** Queues a change (`patch`: its patch message, when the socket takes patches and one exists). */
  offer(event: ChannelEvent, patch: PatchMessage | null = null): void {
    if (this.closed) return;
    const bytes = event.bytes().length;
    if (
      patch !== null &&
      patch.baseRevision === this.tailRevision &&
      this.waitingBytes + patch.payload.length <= bytes
    ) {
      this.waiting.push({ event, patch });
      this.waitingBytes += patch.payload.length;
    } else {
      this.replaced(this.waiting.length);
      this.waiting.length = 0;
      this.waiting.push({ event, patch: null });
      this.waitingBytes = bytes;
    }
    this.tailRevision = event.revision;
    if (!this.inFlight) this.coalescer.schedule(this.entry);
  }

  /**
   * Forgets every waiting change and the patch chain: after a store reset the reader
   * starts over from a new `ready`, and what waited belongs to the old store.
   */
  reset(): void {
    this.replaced(this.waiting.length);
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.tailRevision = undefined;
    this.handed = 0;
  }

  /** Stops writing (the socket is closing). */
  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
  }

  /** True while a write has not completed (the socket has output the reader has not taken). */
  get writing(): boolean {
    return this.inFlight;
  }

  /** Revision of the newest change handed to the socket (what waits is not counted). */
  get handedRevision(): number {
    return this.handed;
  }

  /** Changes waiting behind the write in flight (0 or 1, or a short chain of patches). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Called by the coalescer: writes what waits, unless a write is still in flight. */
  flush(): boolean {
    if (this.inFlight || this.closed || this.waiting.length === 0) return false;
    this.inFlight = true;
    const change = latestOf(this.waiting);
    this.replaced(this.waiting.length - 1);
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.handed = Math.max(this.handed, change.event.revision);
    this.outgoing[0] = change;
    this.sink.write(this.outgoing, this.written);
    this.outgoing.length = 0;
    return true;
  }

  private replaced(count: number): void {
    if (count === 0) return;
    this.dropped += count;
    this.onReplaced(count);
  }

  private readonly written = (error?: Error | null): void => {
    this.inFlight = false;
    // A failed write means the socket is going: its close handler stops the outbox.
    if (error) return;
    if (this.waiting.length > 0) this.coalescer.schedule(this.entry);
  };
}

/**
 * What the waiting changes come to as one message: the only one; the newest change
 * whole when the chain starts whole (the patches after it would only add to it); or the
 * chain of patches composed into one.
 */
function latestOf(waiting: readonly OutgoingChange[]): OutgoingChange {
  const first = waiting[0];
  const last = waiting[waiting.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('nothing is waiting');
  if (waiting.length === 1) return first;
  if (first.patch === null) return { event: last.event, patch: null };
  const chain = waiting.map((change) => change.patch).filter((patch) => patch !== null);
  return { event: last.event, patch: composePatchMessages(chain) };
}
