// Settings the orchestrator passes to server processes through the environment.

export class MissingEnvError extends Error {
  constructor(readonly variable: string) {
    super(`${variable} is required (set by the bench orchestrator)`);
    this.name = 'MissingEnvError';
  }
}

export function requireEnv(variable: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new MissingEnvError(variable);
  return value;
}

/** Header naming the user in floor servers, which have no auth (ours ignores it). */
export const BENCH_USER_HEADER = 'x-bench-user';
export const SAVE_PATH = '/api/dashboard/state';
/** Same body limit as the state size limit plus the envelope. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
