// The run's seed outside a test worker: FC_SEED parsed and checked, or a fresh one drawn.
// No vitest import here, so the global setup (main process) can use it.
import { randomInt } from 'node:crypto';

/** FC_SEED (an integer) if set; throws on anything else so a typo does not go unnoticed. */
export function seedFromEnvironment(): number | undefined {
  const text = process.env.FC_SEED;
  if (text === undefined || text === '') return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`FC_SEED must be an integer, got ${JSON.stringify(text)}`);
  }
  return seed;
}

/** A fresh seed in fast-check's 32-bit range. */
export function drawSeed(): number {
  return randomInt(-(2 ** 31), 2 ** 31 - 1);
}
