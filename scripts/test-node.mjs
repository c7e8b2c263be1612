#!/usr/bin/env node
// `npm run test:node -- 24 [vitest arguments]`: the unit projects (schema, server, client,
// scripts) under another Node major version, fetched by npx from the registry's `node`
// package, so the suite is checked on every version `engines` names without installing
// them. Sets the checkout up first, as `npm test` does; exits with Vitest's code.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  ensureBuilds,
  ensureDependencies,
  ensureTestPrerequisites,
  repositoryRoot,
  SetupError,
} from './setup.mjs';

export const UNIT_PROJECTS = ['schema', 'server', 'client', 'scripts'];
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function log(message) {
  process.stderr.write(`test:node: ${message}\n`);
}

const [version, ...vitestArgs] = process.argv.slice(2);
if (version === undefined || !/^\d+(\.\d+){0,2}$/.test(version)) {
  log('usage: npm run test:node -- <node version, e.g. 24 or 22.12> [vitest arguments]');
  process.exit(2);
}

try {
  ensureDependencies();
  const { chromium } = ensureTestPrerequisites();
  ensureBuilds();
  const projects = UNIT_PROJECTS.flatMap((name) => ['--project', name]);
  // npx puts that version's `node` first on PATH, so every process the tests start
  // (Vitest's workers, servers, scripts) runs on it too.
  const args = ['-y', '-p', `node@${version}`, 'node'];
  const vitest = join(repositoryRoot, 'node_modules/vitest/vitest.mjs');
  log(`running the unit projects (${UNIT_PROJECTS.join(', ')}) on node@${version}`);
  const started = Date.now();
  const result = spawnSync(npx, [...args, vitest, 'run', ...projects, ...vitestArgs], {
    cwd: repositoryRoot,
    stdio: 'inherit',
    env: { ...process.env, CHROMIUM_PATH: chromium },
  });
  if (result.error) throw new SetupError(`npx could not start: ${result.error.message}`);
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`node@${version}: ${result.status === 0 ? 'passed' : 'FAILED'} in ${seconds} s`);
  process.exit(result.status ?? 1);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  log(error.message);
  process.exit(error.exitCode);
}
