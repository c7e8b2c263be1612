// What the orchestrator and the writer process (writer-job.ts) exchange: the writer's
// settings and its result. Kept apart from the job, which starts its child side on import.

export interface WriterConfig {
  urls: string[];
  hotToken: string;
  coldTokens: string[];
  /** Saves in flight at once (one of them always for the hot user). */
  concurrency: number;
  durationMs: number;
  /** Upper bound on saves, whatever the duration. */
  maxSaves: number;
  stateBytes: number;
}

export interface WriterResult {
  saves: number;
  hotSaves: number;
  coldSaves: number;
  /** Count per non-2xx status (a run with any is not valid). */
  non2xx: Record<string, number>;
  errors: number;
  firstError?: string;
  durationMs: number;
  cpuSeconds: number;
  /** State timestamp of each user's last accepted save, by token: what every subscriber must end at. */
  lastSaved: Record<string, number>;
  /**
   * State timestamps (= send times) of every accepted save, by token, ascending: what the
   * subscribers' staleness is measured against. Not kept in the bench's results.
   */
  acceptedAt: Record<string, number[]>;
}

/** A result with nothing saved: the writer's starting point, and a run the bench aborted. */
export function emptyWriterResult(): WriterResult {
  return {
    saves: 0,
    hotSaves: 0,
    coldSaves: 0,
    non2xx: {},
    errors: 0,
    durationMs: 0,
    cpuSeconds: 0,
    lastSaved: {},
    acceptedAt: {},
  };
}
