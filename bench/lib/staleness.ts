// Staleness of fan-out delivery: for every save and every subscriber of its user, the
// time from the save (its send time) until the subscriber holds that state or a newer
// one. Latest-wins delivery skips states: a skipped save counts until the newer state
// arrives, so a system that delivers fewer messages is not flattered by measuring only
// the ones it sent.

/** What one subscriber came to hold, in arrival order: only arrivals that moved it forward. */
export class ArrivalLog {
  private states: number[] = [];
  private times: number[] = [];

  /** Newest state timestamp held (0: none since the last reset). */
  get newest(): number {
    return this.states[this.states.length - 1] ?? 0;
  }

  get length(): number {
    return this.states.length;
  }

  /** A message with state `stateAt` arrived at `at`; older or equal states change nothing. */
  record(stateAt: number, at: number): void {
    if (stateAt <= this.newest) return;
    this.states.push(stateAt);
    this.times.push(at);
  }

  reset(): void {
    this.states = [];
    this.times = [];
  }

  /**
   * Calls `sample(staleness)` for every save in `savedAt` (ascending send times) the
   * subscriber reached: the first arrival of that state or a newer one, minus the send
   * time. Returns how many saves it never reached.
   */
  staleness(savedAt: readonly number[], sample: (ms: number) => void): number {
    let arrival = 0;
    for (let index = 0; index < savedAt.length; index++) {
      const saved = savedAt[index] as number;
      while (arrival < this.states.length && (this.states[arrival] as number) < saved) arrival++;
      if (arrival === this.states.length) return savedAt.length - index;
      sample((this.times[arrival] as number) - saved);
    }
    return 0;
  }
}
