// The start-up check of the Redis persistence settings, against a real redis-server:
// nothing persisted warns, AOF is quiet, RDB only is noted, a refused CONFIG is said.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { Logger } from '../src/logger.js';
import { warnIfRedisNotPersistent } from '../src/store/redis/persistence.js';
import { RedisStateStore } from '../src/store/redis/redis-store.js';

let redis: TestRedis;
let admin: Redis;
const stores: RedisStateStore[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  admin.disconnect();
  await redis.close();
});

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const record =
    (level: Line['level']) =>
    (_context: object, message: string): void => {
      lines.push({ level, message });
    };
  return {
    lines,
    logger: {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    },
  };
}

async function store(url: string): Promise<RedisStateStore> {
  const created = new RedisStateStore({ url });
  stores.push(created);
  expect(await created.waitUntilReady(5000)).toBe(true);
  return created;
}

describe('the Redis persistence check at start', () => {
  it('warns when Redis has neither AOF nor RDB snapshots', async () => {
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'save', '');
    const checked = await store(redis.url);
    const { logger, lines } = recordingLogger();
    expect(await warnIfRedisNotPersistent(() => checked.persistence(), logger)).toEqual({
      aof: false,
      rdb: false,
    });
    expect(lines).toEqual([{ level: 'warn', message: expect.stringMatching(/PERSISTS NOTHING/) }]);
  });

  it('notes RDB snapshots alone, and says nothing with appendonly yes', async () => {
    const checked = await store(redis.url);
    await admin.config('SET', 'save', '3600 1');
    const rdbOnly = recordingLogger();
    expect(await warnIfRedisNotPersistent(() => checked.persistence(), rdbOnly.logger)).toEqual({
      aof: false,
      rdb: true,
    });
    expect(rdbOnly.lines).toEqual([{ level: 'info', message: expect.stringMatching(/RDB/) }]);

    await admin.config('SET', 'appendonly', 'yes');
    const aof = recordingLogger();
    expect(await warnIfRedisNotPersistent(() => checked.persistence(), aof.logger)).toEqual({
      aof: true,
      rdb: true,
    });
    expect(aof.lines).toEqual([]);
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'save', '');
  });

  it('says it could not tell when CONFIG is refused (an ACL user without it)', async () => {
    await admin.acl('SETUSER', 'app', 'on', '>app-password', '~*', '&*', '+@all', '-config');
    const url = new URL(redis.url);
    url.username = 'app';
    url.password = 'app-password';
    const limited = await store(url.toString());
    const { logger, lines } = recordingLogger();
    expect(await warnIfRedisNotPersistent(() => limited.persistence(), logger)).toBeNull();
    expect(lines).toEqual([
      { level: 'info', message: expect.stringMatching(/could not read the Redis persistence/) },
    ]);
  });
});
