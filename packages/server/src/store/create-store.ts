// The stores as factory functions, for code that wants a `StateStore` without naming
// its class: `createStateStore({ redisUrl })` picks Redis or memory as the server does.
import { MemoryStateStore, type MemoryStateStoreOptions } from './memory-store.js';
import { RedisStateStore, type RedisStateStoreOptions } from './redis/redis-store.js';
import type { StateStore } from './state-store.js';
import { checkStateStoreOptions } from './store-options.js';

/** `createRedisStateStore({ redisUrl })` or `({ cluster })`; the options are checked (OptionError). */
export function createRedisStateStore(options: RedisStateStoreOptions): RedisStateStore {
  return new RedisStateStore(options);
}

export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): MemoryStateStore {
  return new MemoryStateStore(options);
}

export interface StateStoreOptions extends Omit<RedisStateStoreOptions, 'url' | 'redisUrl'> {
  /** Redis to persist in; absent or empty = an in-process memory store (one instance only). */
  redisUrl?: string | undefined;
}

/** A Redis store when `redisUrl` (or a `cluster`) is given, else a memory store. */
// The only place a Redis or a memory store is chosen (startServer and the module-level
// functions come here too).
export function createStateStore(options: StateStoreOptions = {}): StateStore {
  checkStateStoreOptions(options);
  const { redisUrl, ...rest } = options;
  if (redisUrl) return createRedisStateStore({ ...rest, redisUrl });
  if (rest.cluster) return createRedisStateStore(rest);
  return createMemoryStateStore(rest.logger === undefined ? {} : { logger: rest.logger });
}
