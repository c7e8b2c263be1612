// When the outbox sends a save. Three promises, each tested in test/sync-outbox.test.ts:
// - a change after a quiet period (no save for `intervalMs`) leaves at once, in a
//   microtask (so a synchronous burst of store updates is one save): device → device
//   costs the network, not a wait;
// - saves are at least `intervalMs` apart, and while changes keep coming less than
//   `intervalMs` apart they are held (trailing debounce) but still leave every `maxWaitMs`:
//   a long burst costs the server what the old 100 ms / 1 s debounce cost it, plus the
//   leading save;
// - the run always reads the latest state when it fires, so a burst ends with its last state.

import { createDueTimer } from './due-timer.js';

export interface SavePacingOptions {
  /** Shortest time between two saves, and the quiet time that ends a burst. */
  intervalMs: number;
  /** Longest a continuous burst holds its changes back. */
  maxWaitMs: number;
  /** Clock, injectable for tests. @default Date.now */
  now?: (() => number) | undefined;
}

export interface SavePacing {
  /** A change: run now (after a quiet period) or when the burst allows. */
  schedule(): void;
  /** A save was sent (by the pacing or directly): the interval counts from now. */
  sent(): void;
  /** Drops a pending run. */
  cancel(): void;
  isPending(): boolean;
}

export function createSavePacing(run: () => void, options: SavePacingOptions): SavePacing {
  const { intervalMs, maxWaitMs, now = () => Date.now() } = options;
  let lastSentAt = -Infinity;
  let firstCallAt = 0;
  let lastCallAt = 0;
  // Bumped by every cancel and send, so a queued microtask of an earlier round is a no-op.
  let round = 0;
  let microtaskQueued = false;

  const dueAt = (): number =>
    Math.max(lastSentAt + intervalMs, Math.min(lastCallAt + intervalMs, firstCallAt + maxWaitMs));
  const timer = createDueTimer(dueAt, run, now);

  const clear = (): void => {
    timer.clear();
    microtaskQueued = false;
    round += 1;
  };

  return {
    schedule() {
      const t = now();
      lastCallAt = t;
      if (timer.isArmed() || microtaskQueued) return;
      firstCallAt = t;
      if (t - lastSentAt >= intervalMs) {
        microtaskQueued = true;
        const queuedRound = round;
        queueMicrotask(() => {
          if (queuedRound !== round || !microtaskQueued) return;
          microtaskQueued = false;
          run();
        });
        return;
      }
      timer.arm(dueAt() - t);
    },
    sent() {
      clear();
      lastSentAt = now();
    },
    cancel: clear,
    isPending: () => timer.isArmed() || microtaskQueued,
  };
}
