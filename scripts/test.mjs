#!/usr/bin/env node
// `npm test`: sets the checkout up (dependencies, redis-server and Chromium, stale builds)
// the way `npm start` does, then lint, type-check, the size budget of the browser client and
// the demo page (`npm run size`, .size-limit.json, on the fresh builds), every test with
// coverage and, after vitest, the Python client's tests (scripts/python-client-test.mjs).
// Arguments after `npm test --` go to vitest (e.g. `npm test -- packages/schema`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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

/**
 * The Python client's tests (clients/python, against the built server): its own script,
 * which sets up the virtual environment. Skipped when vitest was given a filter.
 */
function pythonClientStep(env) {
  if (process.argv.length > 2) {
    process.stdout.write('test: vitest filter given; skipping the Python client tests\n');
    return;
  }
  const script = join(repositoryRoot, 'scripts', 'python-client-test.mjs');
  const result = spawnSync(process.execPath, [script], {
    cwd: repositoryRoot,
    stdio: 'inherit',
    env,
  });
  if (result.error) throw new SetupError(`python client tests: ${result.error.message}`);
  if (result.status !== 0) throw new SetupError('python client tests failed', result.status ?? 1);
}

try {
  ensureDependencies();
  const { chromium } = ensureTestPrerequisites();
  ensureBuilds();
  // The tests, e2e and benchmarks launch the browser the check found.
  const env = { ...process.env, CHROMIUM_PATH: chromium };
  step(['run', 'lint'], env);
  step(['run', 'check:structure'], env);
  step(['run', 'typecheck'], env);
  step(['run', 'size'], env);
  step(['exec', '--', 'vitest', 'run', '--coverage', ...process.argv.slice(2)], env);
  pythonClientStep(env);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  process.stderr.write(`test: ${error.message}\n`);
  process.exit(error.exitCode);
}
