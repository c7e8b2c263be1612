// Tells a reader that stopped reading from one that reads slowly. A socket is stalled
// when it has output waiting and the kernel has taken none of it for a while: no write
// completed and the part of the current write still queued did not shrink (a 1 MB state
// to a slow phone drains for seconds and is not stalled). Sampled by the plugin's sweep,
// not per write, so the fan-out path pays nothing for it.

/** The TCP socket under a WebSocket, as far as draining goes (net.Socket). */
export interface DrainableStream {
  /** Bytes handed to the stream whose write has not completed. */
  readonly writableLength: number;
  /** Bytes ever handed to the stream. */
  readonly bytesWritten: number;
}

function isDrainable(value: unknown): value is DrainableStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    'writableLength' in value &&
    typeof value.writableLength === 'number' &&
    'bytesWritten' in value &&
    typeof value.bytesWritten === 'number'
  );
}

/** libuv's bytes of the current writes not yet in the kernel (partial progress), or 0. */
function queuedInLibuv(stream: DrainableStream): number {
  const handle: unknown = Reflect.get(stream, '_handle');
  if (typeof handle !== 'object' || handle === null) return 0;
  const queued: unknown = Reflect.get(handle, 'writeQueueSize');
  return typeof queued === 'number' ? queued : 0;
}

export class StallWatch {
  private completed = -1;
  private queued = 0;
  /** Nothing was waiting at the last sample. */
  private idle = true;
  private since: number;

  private constructor(
    private readonly stream: DrainableStream,
    private readonly now: () => number,
  ) {
    this.since = now();
  }

  /** A watch over the stream under `socket` (ws's `_socket`), or undefined when there is none. */
  static of(socket: object, now: () => number = Date.now): StallWatch | undefined {
    const stream: unknown = Reflect.get(socket, '_socket');
    return isDrainable(stream) ? new StallWatch(stream, now) : undefined;
  }

  /**
   * How long (ms) output has waited without the kernel taking any of it; 0 when it moved
   * or none waits. `restart`: count from now (the caller knows this process was not running).
   */
  stalledFor(restart = false): number {
    const now = this.now();
    const backlog = this.stream.writableLength;
    const completed = this.stream.bytesWritten - backlog;
    const queued = queuedInLibuv(this.stream);
    // Output that appeared since the last sample has waited at most since this one.
    const moved = restart || this.idle || completed !== this.completed || queued < this.queued;
    this.completed = completed;
    this.queued = queued;
    this.idle = backlog === 0;
    if (backlog === 0 || moved) {
      this.since = now;
      return 0;
    }
    return now - this.since;
  }
}
