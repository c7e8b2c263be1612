// The seed of this test run for fast-check properties and the fuzz suites: FC_SEED when
// set (to replay a failure), else one drawn per run by seed-global-setup.ts and handed
// to every worker, so all property suites of a run share one seed that is printed once.
import { inject } from 'vitest';
import { drawSeed, seedFromEnvironment } from './seed-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    fcSeed: number;
  }
}

/** The seed of this run (inside a test worker). */
export function runSeed(): number {
  return seedFromEnvironment() ?? inject('fcSeed') ?? fallbackSeed();
}

let fallback: number | undefined;

/** A run without the global setup (a config that omits it): drawn here, printed once. */
function fallbackSeed(): number {
  if (fallback === undefined) {
    fallback = drawSeed();
    console.info(`fast-check seed ${fallback} (replay: FC_SEED=${fallback})`);
  }
  return fallback;
}

/** `error` with the replay line in front of its message (for suites that derive seeds). */
export function namingSeed(error: unknown, seed: number): unknown {
  if (error instanceof Error) error.message = `replay: FC_SEED=${seed}\n${error.message}`;
  return error;
}
