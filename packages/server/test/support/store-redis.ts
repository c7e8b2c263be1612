// A real test Redis for store tests that also read or plant raw keys: Redis and a plain
// ioredis client on it start before all tests of the file and close after them; stores
// from `openStore` are closed after each test; `scope()` names a fresh user of `acme`.
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../../test-support/redis-server.js';
import {
  type RedisStateStore,
  type RedisStateStoreOptions,
  type SaveRequest,
  type StateScope,
  stateScope,
} from '../../src/index.js';
import { fileFixture } from './file-fixture.js';
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
  const started = fileFixture(
    'setUpStoreRedis',
    async () => {
      const redis = await startTestRedis();
      const client = new Redis(redis.url);
      // Its errors are reconnect noise once Redis stops at the end; what tests ask fails loudly.
      client.on('error', () => {});
      return { redis, client };
    },
    async ({ redis, client }) => {
      client.disconnect();
      await redis.close();
    },
  );
  const stores = redisStores();
  afterEach(() => stores.closeAll());
  let users = 0;

  return {
    get redis() {
      return started().redis;
    },
    get client() {
      return started().client;
    },
    openStore: (options = {}) => stores.open(started().redis.url, options),
    scope: () => stateScope('acme', `${userPrefix}-${++users}`),
    async writeHashLayout(key, timestamp, revision) {
      await started().client.hset(key, {
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
