// Commands sent to Redis in one event-loop iteration leave in one write. Under load a
// poll phase hands the server several requests at once (one per ready HTTP socket), and
// each save is one EVALSHA: corking the Redis socket until the check phase (setImmediate,
// after every I/O callback of the iteration) turns k writes into one `writev`. The kernel
// charges per call, and a write to Redis was the largest single cost of a save (profile:
// `writeUtf8String` ~17 µs, most of it the system call). A lone command waits for nothing
// but the end of the callbacks already running.

import type { Corkable } from '../../socket/fan-out/corkable.js';

export class IterationCork {
  private readonly corked = new Set<Corkable>();
  private scheduled = false;

  /** Holds `stream`'s writes until the end of this iteration (once per stream and iteration). */
  hold(stream: Corkable): void {
    if (this.corked.has(stream)) return;
    stream.cork();
    this.corked.add(stream);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Releases every held stream now (also what the scheduled check-phase callback runs). */
  readonly release = (): void => {
    this.scheduled = false;
    const streams = [...this.corked];
    this.corked.clear();
    for (const stream of streams) stream.uncork();
  };
}
