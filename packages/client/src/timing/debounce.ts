// Trailing debounce with a max wait, `flush`, `cancel` and `isPending`.
//
// Our own rather than lodash's because it is product core: the guarantees users rely
// on live here and are tested here. (1) The function runs AFTER the last call of a
// burst, and reads the state itself at that moment, so the last change is never the
// one dropped (the classic throttle bug). (2) `maxWaitMs` bounds how long a steady
// stream of changes can postpone a save. (3) `flush` runs a pending call now, for
// `pagehide`; it does nothing when nothing is pending. (4) One timer per burst, not a
// clear/set per call: scheduling stays O(1) and cheap at 1,000 calls per second.

import { createDueTimer } from './due-timer.js';

export interface DebounceOptions {
  /** Quiet time after the last call before `fn` runs. */
  waitMs: number;
  /** Longest time a pending call may be postponed by further calls. @default Infinity */
  maxWaitMs?: number;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

export interface Debounced {
  /** Asks for a run: `waitMs` after the last call, or `maxWaitMs` after the first pending one. */
  schedule(): void;
  /** Runs a pending call now. Returns whether one was pending. */
  flush(): boolean;
  /** Drops a pending call. */
  cancel(): void;
  isPending(): boolean;
}

export function createDebounce(fn: () => void, options: DebounceOptions): Debounced {
  const { waitMs, maxWaitMs = Infinity, now = () => Date.now() } = options;
  let firstCallAt = 0;
  let lastCallAt = 0;

  const dueAt = (): number => Math.min(lastCallAt + waitMs, firstCallAt + maxWaitMs);
  const timer = createDueTimer(dueAt, fn, now);
  const clear = (): void => timer.clear();

  return {
    schedule() {
      const t = now();
      lastCallAt = t;
      if (!timer.isArmed()) {
        firstCallAt = t;
        timer.arm(Math.min(waitMs, maxWaitMs));
      }
    },
    flush() {
      if (!timer.isArmed()) return false;
      clear();
      fn();
      return true;
    },
    cancel: clear,
    isPending: () => timer.isArmed(),
  };
}
