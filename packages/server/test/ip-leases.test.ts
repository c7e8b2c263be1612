// The per-IP lease rules against a real Redis, step by step: the block asked for, the
// credit before it comes, when the next block is asked for, expiry and give-back, idle
// IPs, refusals and their Retry-After, waiters, batches, failures and shutdown.
//
// The instance's clock is the test's. Most tests settle by hand (the private `settle`,
// the step the flush timer runs) with a flush interval of an hour, so every settlement is
// one the test asked for; the timer itself is tested with short intervals and waitFor.
// Buckets refill at most 0.001 token/s on Redis's own clock, so the token counts read
// back are the figures below plus a few thousandths.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { RateLimitedError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { silentLogger } from '../src/logger.js';
import { type IpLeaseOptions, IpLeases, ipBucketKey } from '../src/rate-limit/ip-leases.js';
import { refusalOf } from './support/refusal.js';
import { waitFor } from './support/wait-for.js';

const HOUR = 3_600_000;
const T0 = 1_000_000;
let redis: TestRedis;
let client: Redis;
let count = 0;
const newIp = () => `198.18.0.${++count}`;
const open: IpLeases[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  for (const leases of open) await leases.close();
  client.disconnect();
  await redis.close();
});

/** Leases on the shared connection, settled by hand unless `flushMs` is given; clock at T0. */
/** An option given as `undefined` takes the module's default (over this helper's own). */
type LeaseOptionsGiven = { [K in keyof IpLeaseOptions]?: IpLeaseOptions[K] | undefined } & Pick<
  IpLeaseOptions,
  'rate'
>;

function leasesOf(options: LeaseOptionsGiven) {
  const clock = { now: T0 };
  const leases = new IpLeases(client, {
    flushMs: HOUR,
    logger: silentLogger,
    now: () => clock.now,
    ...options,
  } as IpLeaseOptions);
  open.push(leases);
  return { leases, clock };
}

/** One settlement now, as the flush timer runs it. */
function settle(leases: IpLeases): Promise<void> {
  return (leases as unknown as { settle(): Promise<void> }).settle();
}

/** Tokens in the IP's Redis bucket (as stored at its last settlement). */
async function tokens(ip: string): Promise<number> {
  return Number(await client.hget(ipBucketKey(ip), 't'));
}

async function expectTokens(ip: string, expected: number): Promise<void> {
  const stored = await tokens(ip);
  expect(stored).toBeGreaterThanOrEqual(expected);
  expect(stored).toBeLessThan(expected + 0.5);
}

/** Takes until one is not admitted at once; how many were. */
function admittedAtOnce(leases: IpLeases, ip: string): { admitted: number; next: unknown } {
  for (let admitted = 0; admitted < 1000; admitted++) {
    const next = leases.take(ip);
    // Left waiting by some tests: rejected when the instance closes.
    if (next instanceof Promise) next.catch(() => {});
    if (next !== undefined) return { admitted, next };
  }
  throw new Error('1000 takes admitted at once');
}

const slow = (burst: number) => ({ perSecond: 0.001, burst });

describe('IpLeases: blocks and credit', () => {
  it('names the bucket by IP in the shared hash tag', () => {
    expect(ipBucketKey('192.0.2.1')).toBe('dashboard:ratelimit:ip:{ip}:192.0.2.1');
  });

  it('refuses a rate that could never admit a request', () => {
    expect(
      () => new IpLeases(client, { rate: { perSecond: 0, burst: 5 }, logger: silentLogger }),
    ).toThrow(RangeError);
  });

  it('admits ceil(burst / 10) on credit, then leases ceil(burst / 4) plus one per waiter', async () => {
    // burst 10: block 3, credit 1.
    const { leases } = leasesOf({ rate: slow(10) });
    const ip = newIp();
    expect(leases.shared).toBe(true);
    expect(leases.take(ip)).toBeUndefined();
    expect(leases.size).toBe(1);
    const waiting = leases.take(ip);
    expect(waiting).toBeInstanceOf(Promise);
    await settle(leases);
    await expect(waiting).resolves.toBeUndefined();
    expect(leases.settlements).toBe(1);
    // 10 - 1 charged - 4 leased (the block and the waiter's).
    await expectTokens(ip, 5);
    // Three leased left, then the credit again, then a wait.
    const { admitted, next } = admittedAtOnce(leases, ip);
    expect(admitted).toBe(4);
    expect(next).toBeInstanceOf(Promise);
    await settle(leases);
    await expect(next).resolves.toBeUndefined();
  });

  it('asks for the next block once fewer than half a block is left', async () => {
    // burst 16: block 4, credit 2; the next block is asked for below 2 tokens held.
    const { leases } = leasesOf({ rate: slow(16) });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    await expectTokens(ip, 11);
    leases.take(ip);
    leases.take(ip);
    // Two held: nothing due.
    await settle(leases);
    expect(leases.settlements).toBe(1);
    leases.take(ip);
    await settle(leases);
    expect(leases.settlements).toBe(2);
    await expectTokens(ip, 7);
    // Nothing due again once the block came.
    await settle(leases);
    expect(leases.settlements).toBe(2);
    // 1 + 4 held, then the credit of 2.
    expect(admittedAtOnce(leases, ip).admitted).toBe(7);
  });

  it('follows the block and credit given', async () => {
    const { leases } = leasesOf({ rate: slow(20), block: 2, credit: 3 });
    const ip = newIp();
    const { admitted, next } = admittedAtOnce(leases, ip);
    expect(admitted).toBe(3);
    await settle(leases);
    await expect(next).resolves.toBeUndefined();
    // 20 - 3 charged - (2 + 1 waiter) leased.
    await expectTokens(ip, 14);
  });

  it('counts the credit being charged: a take while it is under way waits', async () => {
    const { leases } = leasesOf({ rate: slow(20), credit: 2 });
    const ip = newIp();
    leases.take(ip);
    const first = settle(leases);
    // One charged in the settlement under way, one more on credit, then a wait.
    expect(leases.take(ip)).toBeUndefined();
    const waiting = leases.take(ip);
    expect(waiting).toBeInstanceOf(Promise);
    // A settlement already under way: this one only reschedules.
    await settle(leases);
    expect(leases.settlements).toBe(1);
    await first;
    await expect(waiting).resolves.toBeUndefined();
    // The credit taken meanwhile goes in the next settlement, with the next block.
    await settle(leases);
    expect(leases.settlements).toBe(2);
    // 20 - 1 charged - 5 leased, then - 1 charged - 5 leased.
    await expectTokens(ip, 8);
  });

  it('lets at most one block of requests wait, and refuses the next with the flush interval', async () => {
    // burst 12: block 3, credit 2.
    const { leases } = leasesOf({ rate: slow(12), flushMs: HOUR });
    const ip = newIp();
    leases.take(ip);
    leases.take(ip);
    const waiters = [leases.take(ip), leases.take(ip), leases.take(ip)];
    for (const waiter of waiters) expect(waiter).toBeInstanceOf(Promise);
    expect(refusalOf(() => leases.take(ip)).retryAfterMs).toBe(HOUR);
    await settle(leases);
    for (const waiter of waiters) await expect(waiter).resolves.toBeUndefined();
    // 12 - 2 charged - (3 + 3) leased.
    await expectTokens(ip, 4);
  });

  it('refuses a waiter the block could not cover with a retry of 1 ms at least', async () => {
    const { leases } = leasesOf({ rate: slow(10), block: 2, credit: 1 });
    const ip = newIp();
    // TIME answers seconds and microseconds (strings on the wire, numbers in the types).
    const [seconds = 0, micros = 0] = (await client.time()).map(Number);
    const redisNow = seconds * 1000 + Math.floor(micros / 1000);
    // Two tokens left in Redis: one for the credit, one for two waiters.
    await client.hset(ipBucketKey(ip), 't', '2', 'at', String(redisNow));
    leases.take(ip);
    const first = leases.take(ip) as Promise<void>;
    const second = leases.take(ip) as Promise<void>;
    await settle(leases);
    await expect(first).resolves.toBeUndefined();
    const error = await second.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(1);
  });
});

describe('IpLeases: refusals', () => {
  it('refuses locally until the wait Redis named, then takes credit again', async () => {
    const rate = slow(2);
    // burst 2: block 1, credit 1.
    const { leases, clock } = leasesOf({ rate });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    // The bucket is empty but a token is leased: no refusal yet.
    expect(leases.take(ip)).toBeUndefined();
    expect(leases.take(ip)).toBeUndefined();
    await settle(leases);
    // Charged below zero, nothing granted: refused for the wait Redis computed.
    const left = await tokens(ip);
    expect(left).toBeLessThan(0);
    const wait = Math.ceil(((1 - left) * 1000) / rate.perSecond);
    expect(refusalOf(() => leases.take(ip)).retryAfterMs).toBe(wait);
    clock.now += wait - 1;
    expect(refusalOf(() => leases.take(ip)).retryAfterMs).toBe(1);
    clock.now += 1;
    expect(leases.take(ip)).toBeUndefined();
  });
});

describe('IpLeases: several IPs in one settlement', () => {
  it('grants and refuses each IP by its own bucket', async () => {
    const rate = slow(8);
    // burst 8: block 2, credit 1.
    const { leases } = leasesOf({ rate });
    const [full, empty] = [newIp(), newIp()];
    // TIME answers seconds and microseconds (strings on the wire, numbers in the types).
    const [seconds = 0, micros = 0] = (await client.time()).map(Number);
    const redisNow = seconds * 1000 + Math.floor(micros / 1000);
    await client.hset(ipBucketKey(empty), 't', '0', 'at', String(redisNow));
    leases.take(full);
    leases.take(empty);
    await settle(leases);
    expect(leases.settlements).toBe(1);
    await expectTokens(full, 5);
    // The empty bucket went below zero with the credit: refused for as long as Redis said.
    const left = await tokens(empty);
    expect(left).toBeLessThan(-0.5);
    const wait = Math.ceil(((1 - left) * 1000) / rate.perSecond);
    expect(refusalOf(() => leases.take(empty)).retryAfterMs).toBe(wait);
    // Two leased, then the credit.
    expect(admittedAtOnce(leases, full).admitted).toBe(3);
  });
});

describe('IpLeases: expiry, give-back and idle IPs', () => {
  it('expires leased tokens leaseMs after their settlement, gives them back and asks anew', async () => {
    // burst 20: block 5, credit 2; leases live 500 ms.
    const { leases, clock } = leasesOf({ rate: slow(20) });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    await expectTokens(ip, 14);
    clock.now += 499;
    expect(leases.take(ip)).toBeUndefined();
    // Nothing due: four held.
    await settle(leases);
    expect(leases.settlements).toBe(1);
    clock.now += 1;
    // Expired: on credit, and the four go back with the next ask.
    expect(leases.take(ip)).toBeUndefined();
    await settle(leases);
    expect(leases.settlements).toBe(2);
    // 14 - 1 + 4 - 5.
    await expectTokens(ip, 12);
  });

  it('gives expired tokens back at the next settlement without a request', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20), leaseMs: 100, idleMs: HOUR });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    await expectTokens(ip, 14);
    clock.now += 100;
    await settle(leases);
    expect(leases.settlements).toBe(2);
    await expectTokens(ip, 19);
    expect(leases.size).toBe(1);
  });

  it('refuses nothing after a settlement that only gave tokens back, even if the clock steps back', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20), leaseMs: 100, idleMs: HOUR });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    clock.now += 100;
    // Only the expired five go back: nothing asked, nothing granted, the bucket not empty.
    await settle(leases);
    await expectTokens(ip, 19);
    clock.now -= 1;
    expect(leases.take(ip)).toBeUndefined();
  });

  it('forgets an IP unseen for idleMs, charging its credit and giving its tokens back', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20), idleMs: 200 });
    const ip = newIp();
    leases.take(ip);
    await settle(leases);
    expect(leases.take(ip)).toBeUndefined();
    clock.now += 199;
    await settle(leases);
    expect(leases.size).toBe(1);
    expect(leases.settlements).toBe(1);
    clock.now += 1;
    await settle(leases);
    expect(leases.size).toBe(0);
    expect(leases.settlements).toBe(2);
    // 20 - 1 - 5 + 4 given back.
    await expectTokens(ip, 18);
  });

  it('an idle IP still owing credit is charged without asking for a block', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20) });
    const ip = newIp();
    leases.take(ip);
    leases.take(ip);
    clock.now += 1000;
    await settle(leases);
    expect(leases.size).toBe(0);
    await expectTokens(ip, 18);
  });

  it('counts idleness from the last request', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20) });
    const ip = newIp();
    leases.take(ip);
    clock.now += 999;
    leases.take(ip);
    clock.now += 999;
    await settle(leases);
    expect(leases.size).toBe(1);
    // 20 - 2 charged - 5 leased.
    await expectTokens(ip, 13);
  });

  it('looks at each of many IPs when its grant expires or it goes idle, whatever the others do', async () => {
    // burst 20: block 5, credit 2. Leases live 100 ms, IPs idle after 300 ms unseen.
    const { leases, clock } = leasesOf({ rate: slow(20), leaseMs: 100, idleMs: 300 });
    const ips = Array.from({ length: 6 }, () => newIp());
    // One IP starts every 7 ms (not on the 16 ms slots the instance looks at them by).
    for (const ip of ips) {
      leases.take(ip);
      await settle(leases);
      clock.now += 7;
    }
    // T0 + 42: every IP holds its block of 5 (20 - 1 charged - 5).
    for (const ip of ips) await expectTokens(ip, 14);
    // The first IP keeps asking; the others stay quiet.
    const busy = ips[0] as string;
    const expiredBy = (ip: number) => T0 + 7 * ip + 100;
    for (let step = 0; step < 10; step++) {
      clock.now += 1;
      expect(leases.take(busy)).toBeUndefined();
      await settle(leases);
    }
    // T0 + 52: nobody's grant expired yet.
    for (const ip of ips.slice(1)) await expectTokens(ip, 14);
    for (let ip = 1; ip < ips.length; ip++) {
      clock.now = expiredBy(ip) - 1;
      await settle(leases);
      await expectTokens(ips[ip] as string, 14);
      clock.now = expiredBy(ip);
      await settle(leases);
      // Its 5 went back the moment they expired, without a request.
      await expectTokens(ips[ip] as string, 19);
    }
    expect(leases.size).toBe(6);
    // Each quiet IP is forgotten exactly idleMs after its only request.
    for (let ip = 1; ip < ips.length; ip++) {
      clock.now = T0 + 7 * ip + 299;
      await settle(leases);
      expect(leases.size).toBe(7 - ip);
      clock.now = T0 + 7 * ip + 300;
      await settle(leases);
      expect(leases.size).toBe(6 - ip);
    }
    // The busy one was last seen at T0 + 52.
    clock.now = T0 + 351;
    await settle(leases);
    expect(leases.size).toBe(1);
    clock.now = T0 + 352;
    await settle(leases);
    expect(leases.size).toBe(0);
  });

  it('keeps an IP with waiters past idleMs, and serves them', async () => {
    const { leases, clock } = leasesOf({ rate: slow(20), credit: 1 });
    const ip = newIp();
    leases.take(ip);
    const waiting = leases.take(ip);
    clock.now += 5000;
    await settle(leases);
    await expect(waiting).resolves.toBeUndefined();
    expect(leases.size).toBe(1);
  });
});

describe('IpLeases: the flush timer', () => {
  it('settles within flushMs of a request, and again for the IPs past one batch of 500', async () => {
    const { leases } = leasesOf({ rate: slow(20), flushMs: 10 });
    const ips = Array.from({ length: 501 }, () => newIp());
    for (const ip of ips) expect(leases.take(ip)).toBeUndefined();
    const last = ips[500] as string;
    await waitFor(async () => (await client.exists(ipBucketKey(last))) === 1, {
      what: 'the IP past the first batch to be settled',
      timeoutMs: 15_000,
    });
    expect(leases.settlements).toBe(2);
    await expectTokens(ips[0] as string, 14);
    await expectTokens(last, 14);
    // Each IP got its own block from the one reply: 5 leased, then the credit of 2.
    expect(admittedAtOnce(leases, ips[1] as string).admitted).toBe(7);
    expect(admittedAtOnce(leases, ips[499] as string).admitted).toBe(7);
  });

  it('stops settling once closed, and rejects the waiters with a retry of a second', async () => {
    const flushMs = 5;
    const busy = leasesOf({ rate: slow(20), flushMs, credit: 1 }).leases;
    const ip = newIp();
    busy.take(ip);
    const waiting = busy.take(ip);
    await busy.close();
    const error = await (waiting as Promise<void>).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(1000);
    // Closed before any request: a request after close schedules nothing either.
    const idle = leasesOf({ rate: slow(20), flushMs }).leases;
    await idle.close();
    expect(idle.take(newIp())).toBeUndefined();
    // Timers of one interval fire in order: once this later one settled, those of the
    // closed instances would have.
    const witness = leasesOf({ rate: slow(20), flushMs }).leases;
    witness.take(newIp());
    await waitFor(() => witness.settlements === 1, { what: 'the witness settlement' });
    expect(busy.settlements).toBe(0);
    expect(idle.settlements).toBe(0);
  });

  it('waits flushMs (50 by default) and refuses past the waiters with it', async () => {
    const { leases } = leasesOf({ rate: slow(4), flushMs: undefined });
    const ip = newIp();
    // burst 4: block 1, credit 1.
    leases.take(ip);
    const waiting = leases.take(ip);
    expect(refusalOf(() => leases.take(ip)).retryAfterMs).toBe(50);
    await waiting;
    expect(leases.settlements).toBe(1);
  });
});

describe('IpLeases: while Redis fails', () => {
  let flaky: TestRedis;
  beforeAll(async () => {
    flaky = await startTestRedis();
  });
  afterAll(async () => {
    await flaky.close();
  });

  it('lets the waiters through, logs once a minute, retries each second and charges the credit when back', async () => {
    const connection = new Redis(flaky.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    connection.on('error', () => {});
    const warnings: string[] = [];
    const contexts: object[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (context, message) => {
        contexts.push(context);
        warnings.push(message);
      },
    };
    const clock = { now: T0 };
    const leases = new IpLeases(connection, {
      rate: slow(20),
      flushMs: 20,
      idleMs: HOUR,
      logger,
      now: () => clock.now,
    });
    const ip = '192.0.2.200';
    try {
      await flaky.stop();
      // burst 20: credit 2, then a waiter.
      leases.take(ip);
      leases.take(ip);
      const waiting = leases.take(ip);
      await waitFor(() => !leases.shared, { what: 'the first settlement to fail' });
      await expect(waiting).resolves.toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/each instance limits IPs alone/);
      expect((contexts[0] as { err?: unknown }).err).toBeInstanceOf(Error);
      // Retried a second later: not logged again within the minute...
      await waitFor(() => leases.settlements >= 2, { what: 'a retry', timeoutMs: 10_000 });
      clock.now += 60_000;
      const retries = leases.settlements;
      await waitFor(() => leases.settlements > retries, {
        what: 'a retry a minute later',
        timeoutMs: 10_000,
      });
      expect(warnings).toHaveLength(1);
      // ...and again past it.
      clock.now += 1;
      const later = leases.settlements;
      await waitFor(() => leases.settlements > later, {
        what: 'a retry past the minute',
        timeoutMs: 10_000,
      });
      expect(warnings).toHaveLength(2);
      await flaky.start();
      await waitFor(() => leases.shared, { what: 'a settlement to succeed', timeoutMs: 10_000 });
      // The two on credit are charged, and a block is leased: 20 - 2 - 5.
      const stored = Number(await connection.hget(ipBucketKey(ip), 't'));
      expect(stored).toBeGreaterThanOrEqual(13);
      expect(stored).toBeLessThan(13.5);
    } finally {
      await leases.close();
      connection.disconnect();
    }
  });

  it('keeps the credit owed and the tokens to give back of a failed settlement for the next one', async () => {
    const connection = new Redis(flaky.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    connection.on('error', () => {});
    const clock = { now: T0 };
    // Settled by hand only: the retry timer waits behind the hour-long flush timer.
    const leases = new IpLeases(connection, {
      rate: slow(20),
      flushMs: HOUR,
      idleMs: HOUR,
      logger: silentLogger,
      now: () => clock.now,
    });
    const [owing, returning] = ['192.0.2.210', '192.0.2.211'];
    try {
      await waitFor(() => connection.status === 'ready', { what: 'the connection' });
      leases.take(returning);
      await settle(leases);
      await flaky.stop();
      await waitFor(() => connection.status !== 'ready', { what: 'the connection to drop' });
      clock.now += 500;
      // Two on credit each; the five leased to `returning` expired and go back.
      for (const ip of [owing, owing, returning, returning]) leases.take(ip);
      await settle(leases);
      expect(leases.shared).toBe(false);
      await flaky.start();
      await waitFor(() => connection.status === 'ready', { what: 'the connection back' });
      await settle(leases);
      expect(leases.shared).toBe(true);
      // Redis restarted empty: 20 - 2 charged - 5 leased...
      const owed = Number(await connection.hget(ipBucketKey(owing), 't'));
      expect(owed).toBeGreaterThanOrEqual(13);
      expect(owed).toBeLessThan(13.5);
      // ...and 20 (2 charged, 5 given back: full) - 5 leased.
      const given = Number(await connection.hget(ipBucketKey(returning), 't'));
      expect(given).toBeGreaterThanOrEqual(15);
      expect(given).toBeLessThan(15.5);
    } finally {
      await leases.close();
      connection.disconnect();
    }
  });
});
