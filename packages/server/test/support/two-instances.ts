// Two server instances, `a` and `b`, on one real test Redis, for tests across instances:
// Redis and both instances start before all tests of the file and close after them; the
// test sockets pushed onto `sockets` are closed after each test.
import { afterEach } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../../test-support/redis-server.js';
import type { RunningServer } from '../../src/index.js';
import { fileFixture } from './file-fixture.js';
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
  const started = fileFixture(
    'setUpTwoInstances',
    async () => {
      const redis = await startTestRedis();
      const a = await testServer({ redisUrl: redis.url, instanceId: `${instancePrefix}-a` });
      const b = await testServer({ redisUrl: redis.url, instanceId: `${instancePrefix}-b` });
      return { redis, a, b };
    },
    async ({ redis, a, b }) => {
      await Promise.all([a.close(), b.close()]);
      await redis.close();
    },
  );
  const sockets: TestSocket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  return {
    get redis() {
      return started().redis;
    },
    get a() {
      return started().a;
    },
    get b() {
      return started().b;
    },
    sockets,
  };
}
