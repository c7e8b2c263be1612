#!/usr/bin/env node
// `npm test`: sets the checkout up (dependencies, redis-server and Chromium, stale builds)
// the way `npm start` does, then lint, type-check, the size budget of the browser client and
// the demo page (`npm run size`, .size-limit.json, on the fresh builds) and every test with
// coverage.
// Arguments after `npm test --` go to vitest (e.g. `npm test -- packages/schema`).
import { spawnSync } from 'node:child_process';
import {
  ensureBuilds,
  ensureDependencies,
  ensureTestPrerequisites,
  repositoryRoot,
  SetupError,
} from './setup.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function step(args, env) {
  const result = spawnSync(npm, args, { cwd: repositoryRoot, stdio: 'inherit', env });
  if (result.error) throw new SetupError(`npm ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new SetupError(`npm ${args.join(' ')} failed`, result.status ?? 1);
  }
}

try {
  ensureDependencies();
  const { chromium } = ensureTestPrerequisites();
  ensureBuilds();
  // The tests, e2e and benchmarks launch the browser the check found.
  const env = { ...process.env, CHROMIUM_PATH: chromium };
  step(['run', 'lint'], env);
  step(['run', 'typecheck'], env);
  step(['run', 'size'], env);
  step(['exec', '--', 'vitest', 'run', '--coverage', ...process.argv.slice(2)], env);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  process.stderr.write(`test: ${error.message}\n`);
  process.exit(error.exitCode);
}
