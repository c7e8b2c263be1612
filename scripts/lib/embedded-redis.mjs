// The private redis-server `npm start` runs when no REDIS_URL is configured: loopback only,
// a free port, a random password, `appendonly yes`, its files (AOF, RDB, log, pidfile) in one
// data folder. Started in its own process group so a terminal's Ctrl-C reaches the server
// first; stopped with SHUTDOWN (which flushes the AOF) once the server has exited.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REDIS_PID_FILE } from './data-lock.mjs';
import { redisCommand } from './redis-command.mjs';

export const CONFIG_FILE = 'redis.conf';
export const LOG_FILE = 'redis.log';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;

/** redis-server did not start or did not answer; the message carries its own words. */
export class EmbeddedRedisError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EmbeddedRedisError';
  }
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Redis config-file quoting: a double-quoted string with \\ and \" escaped. */
function quoted(value) {
  return JSON.stringify(value);
}

/** The config file's text; the password lives here (mode 0600), not on the command line. */
export function redisConfig({ dir, port, password }) {
  return [
    '# Written by npm start (scripts/lib/embedded-redis.mjs) on every start; edits are lost.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${port}`,
    `requirepass ${quoted(password)}`,
    `dir ${quoted(dir)}`,
    'appendonly yes',
    'appendfsync everysec',
    `pidfile ${quoted(join(dir, REDIS_PID_FILE))}`,
    `logfile ${quoted(join(dir, LOG_FILE))}`,
    'daemonize no',
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

/** The last lines of the folder's redis.log, to say why Redis stopped. */
function logTail(dir, lines = 8) {
  const path = join(dir, LOG_FILE);
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Waits until Redis answers PING (it answers -LOADING while it reads a large AOF) or its
 * process exits; bounded by READY_TIMEOUT_MS.
 */
async function waitUntilReady(child, port, password, exited) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const reply = await redisCommand({ port, password, args: ['PING'] });
      if (reply === '+PONG') return true;
      lastError = `replied ${reply}`;
    } catch (error) {
      lastError = error.message;
    }
    // A short pause between attempts, cut short when the process exits.
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  throw new EmbeddedRedisError(
    `redis-server on port ${port} did not answer within ${READY_TIMEOUT_MS} ms (${lastError})`,
  );
}

async function startOnce({ redisServer, dir, port }) {
  const password = randomBytes(24).toString('hex');
  const configPath = join(dir, CONFIG_FILE);
  writeFileSync(configPath, redisConfig({ dir, port, password }), { mode: 0o600 });
  const child = spawn(redisServer, [configPath], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  const ready = await Promise.race([waitUntilReady(child, port, password, exited), spawnError]);
  if (!ready) {
    await exited;
    const why = [stderr.trim(), logTail(dir)].filter(Boolean).join('\n');
    return { child: null, why, portInUse: /address already in use/i.test(why) };
  }
  return { child, password, exited };
}

/**
 * Starts redis-server on `dir` (which must exist and be locked by the caller). Resolves
 * with its URL, pid and a stop() that is safe to call twice; `exited` resolves when the
 * process ends for any reason (compare with stop() to tell a crash from a stop).
 */
export async function startEmbeddedRedis({ redisServer, dir }) {
  let started;
  let port;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    port = await freePort();
    started = await startOnce({ redisServer, dir, port });
    // Another program took the free port between the check and Redis's bind: try another.
    if (started.child || !started.portInUse) break;
  }
  if (!started.child) {
    throw new EmbeddedRedisError(
      `redis-server could not start on ${dir}:\n${started.why || '(it printed nothing)'}`,
    );
  }
  const { child, password, exited } = started;
  let stopping = null;
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const stop = () => {
    stopping ??= (async () => {
      if (!isRunning()) return;
      // SHUTDOWN flushes the AOF (and writes an RDB snapshot) before Redis exits.
      await redisCommand({ port, password, args: ['SHUTDOWN'] }).catch(() => {
        child.kill('SIGTERM');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    pid: child.pid,
    exited,
    isRunning,
    isStopping: () => stopping !== null,
    stop,
    logTail: () => logTail(dir),
  };
}
