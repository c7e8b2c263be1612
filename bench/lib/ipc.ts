// Messages between the orchestrator and the processes it starts (Node's IPC channel).
// Servers and load generators run in their own processes so each one's CPU is its own.

/** Orchestrator → child. */
export type ToChild =
  /** Start the child's job with this configuration (load generators). */
  | { type: 'run'; config: unknown }
  /** Report memory, after a full GC when the child runs with --expose-gc. */
  | { type: 'memory' }
  /** Close everything and exit (exiting normally lets --cpu-prof write its profile). */
  | { type: 'shutdown' };

export interface MemoryReport {
  rssBytes: number;
  heapUsedBytes: number;
  /** False when the child has no global `gc` (started without --expose-gc). */
  gcRan: boolean;
}

/** Child → orchestrator. */
export type FromChild =
  | { type: 'ready'; port?: number }
  | { type: 'progress'; message: string }
  | { type: 'result'; result: unknown }
  | ({ type: 'memory' } & MemoryReport)
  | { type: 'failed'; message: string; stack?: string };
