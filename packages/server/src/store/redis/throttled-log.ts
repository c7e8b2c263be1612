// Logs a recurring failure once, then at most once per interval with how many were held
// back, per source (a Redis node, a connection role). A node that is down makes ioredis
// report an error on every retry, and a log line per retry would drown everything else.
import type { Logger } from '../../logger.js';

interface SourceState {
  lastLoggedAt: number;
  suppressed: number;
}

export class ThrottledLog {
  private readonly sources = new Map<string, SourceState>();

  constructor(
    private readonly logger: Logger,
    /** @default 10000 */
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A warning for `source`, unless one was logged within the interval (then counted). */
  warn(source: string, context: Record<string, unknown>, message: string): void {
    const time = this.now();
    const state = this.sources.get(source);
    if (state && time - state.lastLoggedAt < this.intervalMs) {
      state.suppressed += 1;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.sources.set(source, { lastLoggedAt: time, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...context, suppressed } : context, message);
  }

  /** Forgets `source` (it recovered): its next failure is logged at once. */
  recovered(source: string): boolean {
    return this.sources.delete(source);
  }
}
