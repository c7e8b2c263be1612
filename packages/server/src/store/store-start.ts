// What a server says about its store when it starts (startServer and the plugin both come
// here, through the plugin): a memory store keeps states in this process only; a Redis
// store is given time to connect, then checked for persistence (a Redis that persists
// nothing loses every state on restart), or said to be unreachable (503 until it comes).
import type { Logger } from '../logger.js';
import { warnIfRedisNotPersistent } from './redis/persistence.js';
import { RedisStateStore } from './redis/redis-store.js';
import type { StateStore } from './state-store.js';

export async function announceStore(
  store: StateStore,
  logger: Logger,
  connectTimeoutMs: number,
): Promise<void> {
  if (!(store instanceof RedisStateStore)) {
    if (store.kind === 'memory') {
      logger.warn(
        { store: 'memory' },
        'the state store is in memory: state is kept IN THIS PROCESS ONLY (lost on restart, one instance only); give a Redis (REDIS_URL) to keep it',
      );
    }
    return;
  }
  if (await store.waitUntilReady(connectTimeoutMs)) {
    await warnIfRedisNotPersistent(() => store.persistence(), logger);
  } else {
    logger.warn(
      { store: store.kind, waitedMs: connectTimeoutMs },
      'Redis is not reachable yet: serving 503 for state requests until it is',
    );
  }
}
