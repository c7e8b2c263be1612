// Which limiter the options give, and its rates: none when limits are off, the defaults
// when absent, the IP rate and burst derived from the options, option checks. The Redis
// limiter against a real Redis: its named connection, readiness, settlements, the command
// timeout that turns a stalled Redis into local limits, reconnecting, and closing.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort, startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { OptionError, RateLimitedError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { silentLogger } from '../src/logger.js';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions } from '../src/options.js';
import { ipBucketKey } from '../src/rate-limit/ip-leases.js';
import { createRequestLimiter, type RequestLimiter } from '../src/rate-limit/request-limiter.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
let admin: Redis;
let count = 0;
const closers: RequestLimiter[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
});
afterEach(async () => {
  for (const limiter of closers.splice(0)) await limiter.close();
});
afterAll(async () => {
  admin.disconnect();
  await redis.close();
});

function memory(options: RateLimitOptions | undefined): RequestLimiter {
  const limiter = createRequestLimiter(options);
  if (limiter === undefined) throw new Error('expected a limiter');
  closers.push(limiter);
  return limiter;
}

function shared(url: string, options: Partial<{ logger: Logger; commandTimeoutMs: number }> = {}) {
  const connectionName = `limiter-test-${++count}`;
  const limiter = createRequestLimiter(
    { savesPerSecond: 2, burst: 4, ipPerSecond: 1, ipBurst: 20 },
    { url, connectionName, logger: silentLogger, ...options },
  );
  if (limiter === undefined) throw new Error('expected a limiter');
  closers.push(limiter);
  return { limiter, connectionName };
}

/** How many requests of one IP the memory limiter admits at once, and the wait it names after. */
function ipBurst(limiter: RequestLimiter): { admitted: number; retryAfterMs: number } {
  const ip = `203.0.113.${++count % 250}`;
  for (let admitted = 0; admitted < 10_000; admitted++) {
    try {
      limiter.ip(ip);
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      return { admitted, retryAfterMs: error.retryAfterMs };
    }
  }
  throw new Error('10 000 requests of one IP admitted');
}

async function clientNames(): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return [...list.matchAll(/ name=(\S*)/g)].map((match) => match[1] as string);
}

describe('createRequestLimiter', () => {
  // The memory buckets read Date.now: held still, no token refills while a burst is counted.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes none when limits are off', () => {
    expect(createRequestLimiter(false)).toBeUndefined();
    expect(
      createRequestLimiter(false, { url: 'redis://x', connectionName: 'n', logger: silentLogger }),
    ).toBeUndefined();
  });

  it('applies the defaults when rateLimit is absent: 20/s and 40 per user, 100/s and 200 per IP', async () => {
    const limiter = memory(undefined);
    expect(limiter.user?.rate).toEqual({ perSecond: 20, burst: 40 });
    expect(ipBurst(limiter)).toEqual({ admitted: 200, retryAfterMs: 10 });
    expect(limiter.waitUntilReady).toBeUndefined();
    expect(DEFAULT_RATE_LIMIT).toEqual({
      savesPerSecond: 20,
      burst: 40,
      ipPerSecond: 100,
      ipBurst: 200,
    });
    await expect(limiter.close()).resolves.toBeUndefined();
  });

  it('takes the user rate given, and the default IP rate when none is given', () => {
    const limiter = memory({ savesPerSecond: 1, burst: 2 });
    expect(limiter.user?.rate).toEqual({ perSecond: 1, burst: 2 });
    expect(ipBurst(limiter)).toEqual({ admitted: 200, retryAfterMs: 10 });
  });

  it('bursts twice the IP rate unless ipBurst is given', () => {
    expect(ipBurst(memory({ savesPerSecond: 1, burst: 1, ipPerSecond: 2 }))).toEqual({
      admitted: 4,
      retryAfterMs: 500,
    });
    expect(ipBurst(memory({ savesPerSecond: 1, burst: 1, ipPerSecond: 4, ipBurst: 3 }))).toEqual({
      admitted: 3,
      retryAfterMs: 250,
    });
  });

  it.each([
    { savesPerSecond: 0, burst: 1 },
    { savesPerSecond: 1, burst: 0 },
    { savesPerSecond: 1, burst: 1, ipPerSecond: 0 },
    { savesPerSecond: 1, burst: 1, ipPerSecond: 1, ipBurst: 0.5 },
  ])('refuses %o', (options) => {
    expect(() => createRequestLimiter(options)).toThrow(RangeError);
  });
});

describe('the Redis limiter', () => {
  it('needs a Redis URL or a cluster, and says so instead of dialling localhost', () => {
    const make = () =>
      createRequestLimiter(
        { savesPerSecond: 2, burst: 4 },
        { connectionName: 'limiter-test-nowhere', logger: silentLogger },
      );
    expect(make).toThrow(OptionError);
    expect(make).toThrow('url must be a Redis URL when no cluster is given (got none)');
  });

  it('leases IP tokens on its own named connection, counts its settlements, and closes it', async () => {
    const { limiter, connectionName } = shared(redis.url);
    expect(limiter.user?.rate).toEqual({ perSecond: 2, burst: 4 });
    expect(await limiter.waitUntilReady?.(5000)).toBe(true);
    // Ready already: answered at once, within any timeout.
    expect(await limiter.waitUntilReady?.(0)).toBe(true);
    expect(await clientNames()).toContain(connectionName);
    expect(limiter.ipSettlements).toBe(0);
    // ipBurst 20: block 5, credit 2; the third request waits for the settlement.
    expect(limiter.ip('192.0.2.50')).toBeUndefined();
    expect(limiter.ip('192.0.2.50')).toBeUndefined();
    await limiter.ip('192.0.2.50');
    expect(limiter.ipSettlements).toBe(1);
    // 20 - 2 charged - 6 leased (the block and the waiter's), plus what 1/s refilled.
    const tokens = Number(await admin.hget(ipBucketKey('192.0.2.50'), 't'));
    expect(tokens).toBeGreaterThanOrEqual(12);
    expect(tokens).toBeLessThan(20);
    const waiting = limiter.ip('192.0.2.51');
    expect(limiter.ip('192.0.2.51')).toBeUndefined();
    const waiter = limiter.ip('192.0.2.51');
    await limiter.close();
    const error = await Promise.resolve(waiter).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(waiting).toBeUndefined();
    await waitFor(async () => !(await clientNames()).includes(connectionName), {
      what: 'the limiter connection to close',
    });
  });

  it('is not ready while its Redis cannot be reached, and does not print connection errors', async () => {
    const printed = vi.spyOn(console, 'error');
    const { limiter } = shared(`redis://127.0.0.1:${await freePort()}`);
    expect(await limiter.waitUntilReady?.(300)).toBe(false);
    expect(printed.mock.calls.filter((call) => String(call[0]).includes('ioredis'))).toEqual([]);
  });

  it('gives a stalled Redis 500 ms by default, then limits IPs locally and says so', async () => {
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_context: object, message: string) => warnings.push(message),
    };
    const { limiter } = shared(redis.url, { logger });
    expect(await limiter.waitUntilReady?.(5000)).toBe(true);
    const pauser = new Redis(redis.url);
    try {
      await pauser.client('PAUSE', 10_000, 'WRITE');
      limiter.ip('192.0.2.70');
      // Within the pause: only the command timeout can end the settlement this soon.
      await waitFor(() => warnings.length > 0, {
        what: 'the settlement to time out',
        timeoutMs: 8000,
      });
      expect(warnings[0]).toMatch(/each instance limits IPs alone/);
    } finally {
      await pauser.client('UNPAUSE');
      pauser.disconnect();
    }
  });

  it('waits for Redis as long as commandTimeoutMs says', async () => {
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_context: object, message: string) => warnings.push(message),
    };
    const { limiter } = shared(redis.url, { logger, commandTimeoutMs: 20_000 });
    expect(await limiter.waitUntilReady?.(5000)).toBe(true);
    const pauser = new Redis(redis.url);
    try {
      await pauser.client('PAUSE', 1500, 'WRITE');
      limiter.ip('192.0.2.71');
      await waitFor(async () => (await admin.exists(ipBucketKey('192.0.2.71'))) === 1, {
        what: 'the settlement to run once Redis resumes',
        timeoutMs: 15_000,
      });
      await waitFor(() => limiter.ipSettlements === 1, { what: 'the settlement count' });
      expect(warnings).toEqual([]);
    } finally {
      await pauser.client('UNPAUSE');
      pauser.disconnect();
    }
  });
});

describe('the Redis limiter across a Redis restart', () => {
  let own: TestRedis;
  beforeAll(async () => {
    own = await startTestRedis();
  });
  afterAll(async () => {
    await own.close();
  });

  it('reconnects once Redis is back', async () => {
    const { limiter } = shared(own.url);
    expect(await limiter.waitUntilReady?.(5000)).toBe(true);
    await own.stop();
    await waitFor(async () => !(await limiter.waitUntilReady?.(0)), {
      what: 'the connection to drop',
    });
    await own.start();
    expect(await limiter.waitUntilReady?.(10_000)).toBe(true);
  });
});
