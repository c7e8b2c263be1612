// Keeps latency samples for percentiles in bounded memory: every sample until the
// buffer is full, then a uniform reservoir (Algorithm R), so p99 stays unbiased.
import { type Summary, summarize } from './stats.js';

export class LatencyRecorder {
  private readonly samples: Float64Array;
  private kept = 0;
  private seen = 0;

  constructor(capacity = 1_000_000) {
    this.samples = new Float64Array(capacity);
  }

  record(value: number): void {
    this.seen++;
    if (this.kept < this.samples.length) {
      this.samples[this.kept++] = value;
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < this.samples.length) this.samples[slot] = value;
  }

  get count(): number {
    return this.seen;
  }

  reset(): void {
    this.kept = 0;
    this.seen = 0;
  }

  summary(): Summary {
    return { ...summarize(this.samples.subarray(0, this.kept)), count: this.seen };
  }
}
