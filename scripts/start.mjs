#!/usr/bin/env node
// `npm start`: makes a fresh clone runnable (scripts/setup.mjs: `npm ci` when the install
// is missing or outdated, a build when any package's output is stale), prepares the store
// (scripts/lib/start-store.mjs: by default a private redis-server on .data/redis), then runs
// the server, forwarding signals and the exit code. The embedded Redis is stopped cleanly
// (SHUTDOWN) after the server has exited, whichever way it did.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DataLockedError } from './lib/data-lock.mjs';
import { EmbeddedRedisError } from './lib/embedded-redis.mjs';
import { prepareStore, StartStoreError } from './lib/start-store.mjs';
import { ensureBuilds, ensureDependencies, repositoryRoot as root, SetupError } from './setup.mjs';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const userErrors = [SetupError, StartStoreError, DataLockedError, EmbeddedRedisError];

function log(message) {
  process.stderr.write(`start: ${message}\n`);
}

let store = null;
let server = null;
/** A signal that arrived before the server ran: stop as soon as the store is ready. */
let earlySignal = null;
let redisCrashed = false;

// Last resort when this process exits some other way: no lock or Redis left behind.
process.on('exit', () => {
  store?.release();
  // SIGTERM makes Redis shut down as SHUTDOWN does (AOF flushed).
  if (store?.redis?.isRunning() && !store.redis.isStopping()) {
    process.kill(store.redis.pid, 'SIGTERM');
  }
});

async function stopStoreAndExit(code, signal) {
  try {
    await store?.redis?.stop();
  } catch (error) {
    log(`could not stop redis-server cleanly: ${error.message}`);
  }
  store?.release();
  if (signal) {
    // Exit the way the server did, so callers see the same signal status.
    for (const name of SIGNALS) process.removeAllListeners(name);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(redisCrashed && code === 0 ? 1 : (code ?? 1));
}

for (const signal of SIGNALS) {
  process.on(signal, () => {
    if (server === null) earlySignal ??= signal;
    else if (server.exitCode === null && server.signalCode === null) server.kill(signal);
  });
}

try {
  ensureDependencies(root);
  ensureBuilds(root);
  store = await prepareStore({ root, env: process.env, log });
} catch (error) {
  if (!userErrors.some((type) => error instanceof type)) throw error;
  log(error.message);
  process.exit(error.exitCode ?? 1);
}
if (earlySignal !== null) await stopStoreAndExit(0, earlySignal);

server = spawn(process.execPath, [join(root, 'packages/server/dist/main.js')], {
  cwd: root,
  env: { ...process.env, ...store.env },
  stdio: 'inherit',
});
server.on('error', (error) => {
  log(`could not start the server: ${error.message}`);
  void stopStoreAndExit(1, null);
});
server.on('exit', (code, signal) => {
  void stopStoreAndExit(code, signal);
});
store.redis?.exited.then((code) => {
  if (store.redis.isStopping()) return;
  redisCrashed = true;
  log(
    `redis-server exited unexpectedly (${code}); stopping the server. Its log:\n${store.redis.logTail()}`,
  );
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
});
