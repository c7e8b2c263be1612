// Vitest setup file: every fast-check property of the run uses the run's seed (printed
// once by seed-global-setup.ts; FC_SEED replays it). fast-check names the seed and the
// path of a failing case in its error, so the failure message says how to replay it.
import fc from 'fast-check';
import { runSeed } from './run-seed.js';

fc.configureGlobal({ seed: runSeed() });
