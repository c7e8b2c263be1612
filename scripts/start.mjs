#!/usr/bin/env node
// `npm start`: makes a fresh clone runnable (scripts/setup.mjs: `npm ci` when the install
// is missing or outdated, a build when any package's output is stale), then runs the
// server, forwarding signals and the exit code.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilds, ensureDependencies, repositoryRoot as root, SetupError } from './setup.mjs';

function log(message) {
  process.stderr.write(`start: ${message}\n`);
}

try {
  ensureDependencies(root);
  ensureBuilds(root);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  log(error.message);
  process.exit(error.exitCode);
}

const server = spawn(process.execPath, [join(root, 'packages/server/dist/main.js')], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (server.exitCode === null) server.kill(signal);
  });
}
server.on('error', (error) => {
  log(`could not start the server: ${error.message}`);
  process.exit(1);
});
server.on('exit', (code, signal) => {
  if (signal) {
    // Exit the way the server did, so callers see the same signal status.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
