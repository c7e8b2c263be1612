// The stores as factory functions, for code that wants a `StateStore` without naming
// its class: `createStateStore({ redisUrl })` picks Redis or memory as the server does.
import { MemoryStateStore, type MemoryStateStoreOptions } from './memory-store.js';
import { RedisStateStore, type RedisStateStoreOptions } from './redis/redis-store.js';
import type { StateStore } from './state-store.js';

export function createRedisStateStore(options: RedisStateStoreOptions): RedisStateStore {
  return new RedisStateStore(options);
}

export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): MemoryStateStore {
  return new MemoryStateStore(options);
}

export interface StateStoreOptions extends Omit<RedisStateStoreOptions, 'url'> {
  /** Redis to persist in; absent = an in-process memory store (one instance only). */
  redisUrl?: string | undefined;
}

/** A Redis store when `redisUrl` (or a `cluster`) is given, else a memory store. */
// The only place a Redis or a memory store is chosen (startServer and the module-level
// functions come here too).
export function createStateStore(options: StateStoreOptions = {}): StateStore {
  const { redisUrl, ...rest } = options;
  if (redisUrl) return createRedisStateStore({ ...rest, url: redisUrl });
  if (rest.cluster) return createRedisStateStore(rest);
  return createMemoryStateStore(rest.logger === undefined ? {} : { logger: rest.logger });
}
