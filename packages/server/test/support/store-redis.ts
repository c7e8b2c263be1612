// A real test Redis for store tests that also read or plant raw keys: Redis and a plain
// ioredis client on it start before all tests of the file and close after them; stores
// from `openStore` are closed after each test; `scope()` names a fresh user of `acme`.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../../test-support/redis-server.js';
import {
  type RedisStateStore,
  type RedisStateStoreOptions,
  type SaveRequest,
  type StateScope,
  stateScope,
} from '../../src/index.js';
import { redisStores } from './redis-stores.js';

export interface StoreRedis {
  readonly redis: TestRedis;
  /** A plain client on the test Redis, to look at and plant keys. */
  readonly client: Redis;
  /** A store on the test Redis, ready, closed after the test. */
  openStore(options?: Omit<RedisStateStoreOptions, 'url'>): Promise<RedisStateStore>;
  /** A user (workspace `acme`) no other test of the file uses. */
  scope(): StateScope;
  /** Writes `key` as version 0.1 stored a state: a hash of `{ version: 1, timestamp }`, origin `old`. */
  writeHashLayout(key: string, timestamp: number, revision: number): Promise<void>;
}

/** Call at the top of a test file; `userPrefix` starts the ids `scope()` makes. */
export function setUpStoreRedis(userPrefix: string): StoreRedis {
  let started: { redis: TestRedis; client: Redis } | undefined;
  const stores = redisStores();
  let users = 0;

  beforeAll(async () => {
    const redis = await startTestRedis();
    const client = new Redis(redis.url);
    // Its errors are reconnect noise once Redis stops at the end; what tests ask fails loudly.
    client.on('error', () => {});
    started = { redis, client };
  });
  afterEach(() => stores.closeAll());
  afterAll(async () => {
    started?.client.disconnect();
    await started?.redis.close();
  });

  const get = (): NonNullable<typeof started> => {
    if (!started) throw new Error('setUpStoreRedis: not started yet (use it inside tests)');
    return started;
  };
  return {
    get redis() {
      return get().redis;
    },
    get client() {
      return get().client;
    },
    openStore: (options = {}) => stores.open(get().redis.url, options),
    scope: () => stateScope('acme', `${userPrefix}-${++users}`),
    async writeHashLayout(key, timestamp, revision) {
      await get().client.hset(key, {
        state: JSON.stringify({ version: 1, timestamp }),
        revision,
        savedAt: 5,
        timestamp,
        version: 1,
        origin: 'old',
      });
    },
  };
}

/** A save of `{ version: 1, timestamp }` (what `overrides` does not replace) with a 120 s TTL. */
export function saveRequest(timestamp: number, overrides: Partial<SaveRequest> = {}): SaveRequest {
  return {
    stateJson: JSON.stringify({ version: 1, timestamp }),
    timestamp,
    version: 1,
    savedAt: 1_700_000_000_000 + timestamp,
    origin: 'new',
    ttlSeconds: 120,
    ...overrides,
  };
}
