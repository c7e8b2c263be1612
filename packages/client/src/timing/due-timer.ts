// One timer that fires at a due time that may move later while it waits: instead of a
// clear/set per call, it re-arms for the rest when it wakes early. Shared by the
// localStorage debounce and the server save pacing, whose due times move with each change.

export interface DueTimer {
  /** Arms the timer for `delayMs`; when it fires early it waits for the rest of `dueAt()`. */
  arm(delayMs: number): void;
  clear(): void;
  isArmed(): boolean;
}

export function createDueTimer(dueAt: () => number, fire: () => void, now: () => number): DueTimer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onTimer = (): void => {
    timer = undefined;
    const remaining = dueAt() - now();
    // Changes arrived since the timer was set: wait for the rest instead of running early.
    if (remaining > 0) {
      timer = setTimeout(onTimer, remaining);
      return;
    }
    fire();
  };
  return {
    arm(delayMs) {
      timer = setTimeout(onTimer, delayMs);
    },
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    isArmed: () => timer !== undefined,
  };
}
