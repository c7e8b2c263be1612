// Where `npm start` keeps state, decided once before the server starts:
//   - REDIS_URL or REDIS_CLUSTER_NODES set: that Redis (nothing started here);
//   - STORE=memory: the server's in-process memory store, asked for explicitly;
//   - otherwise: a private redis-server on DATA_DIR/redis (default .data/redis), which the
//     server reaches through REDIS_URL like any production Redis. When redis-server cannot
//     be had, the memory store with one loud line (STORE=redis makes that an error instead).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureRedisServer } from '../setup.mjs';
import { acquireDataLock } from './data-lock.mjs';
import { startEmbeddedRedis } from './embedded-redis.mjs';

/** A setting or situation that stops `npm start` before the server runs. */
export class StartStoreError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StartStoreError';
  }
}

function setting(env, name) {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** 'external' | 'memory' | 'embedded', and whether the embedded Redis is required. */
export function chooseStore(env) {
  const store = setting(env, 'STORE')?.toLowerCase();
  if (store !== undefined && store !== 'memory' && store !== 'redis') {
    throw new StartStoreError(`STORE must be memory or redis (got "${env.STORE}")`);
  }
  // The server itself refuses STORE=memory beside a Redis address, with its own message.
  if (setting(env, 'REDIS_URL') || setting(env, 'REDIS_CLUSTER_NODES')) {
    return { kind: 'external' };
  }
  if (store === 'memory') return { kind: 'memory' };
  return { kind: 'embedded', required: store === 'redis' };
}

/** The folder of the embedded Redis: DATA_DIR/redis, DATA_DIR defaulting to <root>/.data. */
export function redisDataDir(root, env) {
  return join(resolve(root, setting(env, 'DATA_DIR') ?? '.data'), 'redis');
}

const noStore = { env: {}, redis: null, release: () => {} };

/**
 * Prepares the store and returns { env (to add to the server's), redis (the embedded one or
 * null), release (the data folder's lock) }. Throws StartStoreError, DataLockedError or
 * EmbeddedRedisError with a message for the user.
 */
export async function prepareStore({ root, env, log }) {
  const choice = chooseStore(env);
  if (choice.kind === 'external') return noStore;
  if (choice.kind === 'memory') {
    log('STORE=memory: state is kept in the server process only and will NOT survive a restart');
    return { ...noStore, env: { STORE: 'memory' } };
  }
  const redisServer = ensureRedisServer(root, env);
  if (redisServer.path === null) {
    if (choice.required) throw new StartStoreError(`STORE=redis: ${redisServer.reason}`);
    log(
      `WARNING: ${redisServer.reason}. Using the MEMORY store: state will NOT survive a restart of npm start.`,
    );
    return { ...noStore, env: { STORE: 'memory' } };
  }
  const dir = redisDataDir(root, env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const release = acquireDataLock(dir);
  try {
    const redis = await startEmbeddedRedis({ redisServer: redisServer.path, dir });
    log(
      `state is kept by a private redis-server (pid ${redis.pid}, 127.0.0.1:${redis.port}) in ${dir}; delete that folder to start afresh, STORE=memory to run without it`,
    );
    return { env: { REDIS_URL: redis.url, STORE: 'redis' }, redis, release };
  } catch (error) {
    release();
    throw error;
  }
}
