#!/usr/bin/env node
// `npm run bench`: sets the checkout up as `npm test` does (dependencies, and redis-server,
// redis-cli/redis-benchmark and Chromium through apt-get when missing), then runs the
// benchmarks (bench/run.ts; it rebuilds ours itself) with the browser the check found.
// Arguments after `npm run bench --` go to bench/run.ts (e.g. `-- --only fan-out`).
import { spawnSync } from 'node:child_process';
import {
  ensureDependencies,
  ensureTestPrerequisites,
  repositoryRoot,
  SetupError,
} from './setup.mjs';

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

try {
  ensureDependencies();
  const { chromium } = ensureTestPrerequisites();
  const result = spawnSync(npx, ['tsx', 'bench/run.ts', ...process.argv.slice(2)], {
    cwd: repositoryRoot,
    stdio: 'inherit',
    env: { ...process.env, CHROMIUM_PATH: chromium },
  });
  if (result.error) throw new SetupError(`tsx bench/run.ts: ${result.error.message}`);
  process.exit(result.status ?? 1);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(error.exitCode);
}
