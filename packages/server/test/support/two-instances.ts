// Two server instances, `a` and `b`, on one real test Redis, for tests across instances:
// Redis and both instances start before all tests of the file and close after them; the
// test sockets pushed onto `sockets` are closed after each test.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../../test-support/redis-server.js';
import type { RunningServer } from '../../src/index.js';
import { testServer } from './servers.js';
import type { TestSocket } from './test-socket.js';

export interface TwoInstances {
  readonly redis: TestRedis;
  /** Instance `<prefix>-a`. */
  readonly a: RunningServer;
  /** Instance `<prefix>-b`. */
  readonly b: RunningServer;
  /** The running test's sockets, closed after it. */
  readonly sockets: TestSocket[];
}

/** Call at the top of a test file; `instancePrefix` names the instances (in Redis client names). */
export function setUpTwoInstances(instancePrefix: string): TwoInstances {
  let started: { redis: TestRedis; a: RunningServer; b: RunningServer } | undefined;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    const redis = await startTestRedis();
    const a = await testServer({ redisUrl: redis.url, instanceId: `${instancePrefix}-a` });
    const b = await testServer({ redisUrl: redis.url, instanceId: `${instancePrefix}-b` });
    started = { redis, a, b };
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await Promise.all([started?.a.close(), started?.b.close()]);
    await started?.redis.close();
  });

  const get = (): NonNullable<typeof started> => {
    if (!started) throw new Error('setUpTwoInstances: not started yet (use it inside tests)');
    return started;
  };
  return {
    get redis() {
      return get().redis;
    },
    get a() {
      return get().a;
    },
    get b() {
      return get().b;
    },
    sockets,
  };
}
