// Vitest global setup: draws the run's fast-check seed once (or takes FC_SEED), prints
// it with the line that replays it, and provides it to the workers (run-seed.ts).
import type { TestProject } from 'vitest/node';
import { drawSeed, seedFromEnvironment } from './seed-env.js';

/** One seed for every project of the run (each project runs this setup). */
const SHARED = 'HYVVE_RUN_FC_SEED';

export default function setup(project: TestProject): void {
  const shared = process.env[SHARED];
  let seed = shared === undefined ? undefined : Number(shared);
  if (seed === undefined) {
    const given = seedFromEnvironment();
    seed = given ?? drawSeed();
    process.env[SHARED] = String(seed);
    console.info(
      given === undefined
        ? `fast-check seed ${seed} (replay a failure: FC_SEED=${seed} npx vitest run …)`
        : `fast-check seed ${seed} (from FC_SEED)`,
    );
  }
  project.provide('fcSeed', seed);
}
