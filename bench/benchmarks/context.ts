// What every benchmark receives from the orchestrator, and what it hands back.
import type { TestRedis } from '../../test-support/redis-server.js';
import type { BenchChild, BenchChildOptions } from '../lib/bench-child.js';
import type { CpuLayout } from '../lib/cpu-layout.js';
import type { Figure } from '../lib/results.js';

export interface BenchContext {
  quick: boolean;
  /** Rounds per server where a benchmark repeats (best round kept, all recorded). */
  rounds: number;
  redis: TestRedis;
  /** pid of redis-server, to read its CPU time. */
  redisPid: number;
  authSecret: string;
  cpu: CpuLayout;
  /** Where --cpu-prof writes profiles (one folder per process), when profiling was asked for. */
  profileDir: string | undefined;
  log(message: string): void;
  /** Empties Redis between runs so no run inherits another's keys or memory. */
  flushRedis(): Promise<void>;
  /**
   * Closes `resource` when the run ends or is interrupted, in case the benchmark that
   * started it cannot (a Redis Cluster it started, say). Closing must be safe to repeat.
   */
  closeWithRun(resource: { close(): Promise<void> }): void;
  /**
   * Starts a process; it is stopped at the end of the benchmark even if the benchmark
   * throws. When profiling, it runs under --cpu-prof.
   */
  startChild(options: BenchChildOptions): Promise<BenchChild>;
}

export interface BenchmarkOutcome {
  figures: Figure[];
  details: Record<string, unknown>;
}

export type Benchmark = (context: BenchContext) => Promise<BenchmarkOutcome>;

export class BenchmarkInvalidError extends Error {
  constructor(
    readonly benchmark: string,
    reason: string,
  ) {
    super(`${benchmark}: ${reason}`);
    this.name = 'BenchmarkInvalidError';
  }
}
