// Coalescing throttle for cross-tab broadcasts: the first call of a quiet period runs in
// a microtask (so a synchronous burst of store updates becomes one message, and an
// isolated change reaches other tabs at once), later calls within `intervalMs` are
// folded into one trailing run. `fn` reads the current state when it runs, so the
// last change of a burst is always the one sent.
// Not lodash's `throttle`: its leading call runs synchronously, inside the first
// `set()` of a burst, so a burst of synchronous updates would go out as two messages
// (the first change alone, then the rest), and it has no microtask leading edge.

export interface Throttled {
  schedule(): void;
  /** Runs a pending call now. Returns whether one was pending. */
  flush(): boolean;
  cancel(): void;
  isPending(): boolean;
}

export function createThrottle(
  fn: () => void,
  intervalMs: number,
  now: () => number = () => Date.now(),
): Throttled {
  let lastRunAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Bumped by every run and cancel, so a queued microtask of an earlier round is a no-op.
  let round = 0;
  let microtaskQueued = false;

  const run = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    microtaskQueued = false;
    round += 1;
    lastRunAt = now();
    fn();
  };

  return {
    schedule() {
      if (microtaskQueued || timer !== undefined) return;
      const wait = lastRunAt + intervalMs - now();
      if (wait > 0) {
        timer = setTimeout(run, wait);
        return;
      }
      microtaskQueued = true;
      const queuedRound = round;
      queueMicrotask(() => {
        if (queuedRound === round && microtaskQueued) run();
      });
    },
    flush() {
      if (!microtaskQueued && timer === undefined) return false;
      run();
      return true;
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      microtaskQueued = false;
      round += 1;
    },
    isPending: () => microtaskQueued || timer !== undefined,
  };
}
