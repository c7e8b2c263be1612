// Limits shared by instances through Redis (the user's bucket spent inside the store's
// scripts, in the user's hash tag; IP tokens leased in blocks), socket floods closed with
// 1008, and the message size capped also when the host app registered the WebSocket
// plugin itself.
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  startTestRedisCluster,
  type TestRedisCluster,
} from '../../../test-support/redis-cluster.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import {
  DEFAULT_RATE_LIMIT,
  dashboardStatePlugin,
  MemoryStateStore,
  RateLimitedError,
  RedisStateStore,
  type RunningServer,
  StatePersistenceService,
  stateScope,
} from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { IpLeases } from '../src/rate-limit/ip-leases.js';
import {
  type ApiResponse,
  api,
  TEST_SECRET,
  testServer,
  tokenFor,
  wsUrl,
} from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
let redis: TestRedis;
let client: Redis;
const sockets: TestSocket[] = [];
let count = 0;
const newUser = () => `lim-${++count}`;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  client.on('error', () => {});
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  client.disconnect();
  await redis.close();
});

describe('limits shared through Redis', () => {
  it('two instances hold one save limit between them', async () => {
    const rateLimit = { savesPerSecond: 1, burst: 4, ipPerSecond: 1000, ipBurst: 1000 };
    const a = await testServer({ redisUrl: redis.url, rateLimit, instanceId: 'lim-a' });
    const b = await testServer({ redisUrl: redis.url, rateLimit, instanceId: 'lim-b' });
    const user = newUser();
    const token = await tokenFor(user);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await api(i % 2 === 0 ? a : b, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: 1_700_000_000_000 + i }) },
      });
      statuses.push(res.status);
    }
    // Four in the shared burst (at most one more refilled while the test ran), then 429s:
    // each instance alone would have let eight through.
    const saved = statuses.filter((status) => status === 200).length;
    expect(saved).toBeGreaterThanOrEqual(4);
    expect(saved).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBe(8 - saved);
    const key = stateScope('acme', user).userBucketKey;
    expect(key).toBe(`dashboard:ratelimit:user:{acme:${user}}`);
    expect(await client.exists(key)).toBe(1);
    expect(await client.pttl(key)).toBeGreaterThan(0);
  });

  it('refuses with RateLimitedError and the wait from Redis time, inside the save script', async () => {
    const store = new RedisStateStore({ url: redis.url, connectionName: 'lim-unit' });
    expect(await store.waitUntilReady(5000)).toBe(true);
    const service = new StatePersistenceService({ store });
    try {
      const owner = { workspaceId: 'acme', userId: newUser() };
      const limit = { perSecond: 2, burst: 1 };
      await service.save(owner, makeState({ timestamp: 1_700_000_000_000 }), { limit });
      const error = await service
        .save(owner, makeState({ timestamp: 1_700_000_000_001 }), { limit })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
      expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(500);
      // Refused inside the script: nothing was saved.
      expect((await service.load(owner))?.revision).toBe(1);
    } finally {
      await service.close();
    }
  });
});

/** 120 saves of one user at once, alternating between `servers`; the time they took. */
async function burstOf120(servers: Awaited<ReturnType<typeof testServer>>[], token: string) {
  const started = performance.now();
  const responses: ApiResponse[] = await Promise.all(
    Array.from({ length: 120 }, (_, i) =>
      api(servers[i % servers.length] as RunningServer, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: 1_700_000_000_000 + i }) },
      }),
    ),
  );
  return { responses, seconds: (performance.now() - started) / 1000 };
}

/** The default per-user limit held: the burst, plus what refilled while the saves ran. */
function expectOneUsersBurst({ responses, seconds }: Awaited<ReturnType<typeof burstOf120>>) {
  const { burst, savesPerSecond } = DEFAULT_RATE_LIMIT;
  // The token is spent before the newer-wins check: a save let through is 200 or 409.
  const through = responses.filter((response) => response.status !== 429);
  expect(through.every((response) => response.status === 200 || response.status === 409)).toBe(
    true,
  );
  expect(through.length).toBeGreaterThanOrEqual(burst);
  expect(through.length).toBeLessThanOrEqual(burst + Math.ceil(seconds * savesPerSecond));
  const limited = responses.find((response) => response.status === 429);
  expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('the default per-user limit', () => {
  it("two instances on one Redis admit one user's burst of 120 saves as one burst, not two", async () => {
    const a = await testServer({ redisUrl: redis.url, rateLimit: DEFAULT_RATE_LIMIT });
    const b = await testServer({ redisUrl: redis.url, rateLimit: DEFAULT_RATE_LIMIT });
    const result = await burstOf120([a, b], await tokenFor(newUser()));
    expectOneUsersBurst(result);
    // Each instance alone would have let a burst through: together, not twice that.
    expect(result.responses.filter((r) => r.status !== 429).length).toBeLessThan(
      2 * DEFAULT_RATE_LIMIT.burst,
    );
  });

  it('the memory store admits the same burst by the same rule', async () => {
    const server = await testServer({ rateLimit: DEFAULT_RATE_LIMIT });
    expectOneUsersBurst(await burstOf120([server], await tokenFor(newUser())));
  });
});

describe('per-IP leases', () => {
  it('N instances admit at most burst + rate·(t + lease) + N·credit of one IP', async () => {
    const rate = { perSecond: 5, burst: 20 };
    const credit = 2;
    const connections = [0, 1, 2].map(() => new Redis(redis.url));
    const leases = connections.map(
      (connection) => new IpLeases(connection, { rate, credit, logger: silentLogger }),
    );
    try {
      const started = performance.now();
      const outcomes = await Promise.all(
        leases.flatMap((lease) =>
          Array.from({ length: 40 }, () => {
            try {
              return Promise.resolve(lease.take('203.0.113.7')).then(
                () => true,
                () => false,
              );
            } catch {
              return Promise.resolve(false);
            }
          }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const admitted = outcomes.filter(Boolean).length;
      expect(admitted).toBeGreaterThanOrEqual(rate.burst / 2);
      // Leased tokens live 0.5 s: they were taken from the bucket at most that long before.
      expect(admitted).toBeLessThanOrEqual(
        rate.burst + Math.ceil(rate.perSecond * (seconds + 0.5)) + leases.length * credit,
      );
      // The credit spent was charged to the shared bucket: it is below what was granted.
      const bucket = await client.hget('dashboard:ratelimit:ip:{ip}:203.0.113.7', 't');
      expect(Number(bucket)).toBeLessThan(1);
    } finally {
      for (const lease of leases) await lease.close();
      for (const connection of connections) connection.disconnect();
    }
  });

  it('gives leased tokens back once they are half a second old, and spends none of them after', async () => {
    let clock = 1_000_000;
    const connection = new Redis(redis.url);
    const lease = new IpLeases(connection, {
      rate: { perSecond: 1, burst: 20 },
      credit: 2,
      logger: silentLogger,
      now: () => clock,
    });
    const key = 'dashboard:ratelimit:ip:{ip}:192.0.2.9';
    try {
      lease.take('192.0.2.9'); // on credit
      await waitFor(() => lease.settlements === 1, { what: 'the first settlement' });
      // Charged 1, leased a block of 5: 14 left in Redis (plus what refilled meanwhile).
      const leased = Number(await client.hget(key, 't'));
      expect(leased).toBeGreaterThanOrEqual(14);
      expect(leased).toBeLessThan(16);
      clock += 500;
      // The block expired: this request is on credit again, and the 5 go back to Redis
      // while the next block is asked for, in the same settlement.
      lease.take('192.0.2.9');
      await waitFor(() => lease.settlements === 2, { what: 'the second settlement' });
      const after = Number(await client.hget(key, 't'));
      // 14 - 1 (credit) + 5 (given back) - 5 (new block) = 13; without the give-back, 8.
      expect(after).toBeGreaterThanOrEqual(13);
      expect(after).toBeLessThan(16);
    } finally {
      await lease.close();
      connection.disconnect();
    }
  });

  it('while Redis cannot be reached, each instance limits an IP alone by the same rule', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    down.on('error', () => {});
    const lease = new IpLeases(down, {
      rate: { perSecond: 1, burst: 3 },
      credit: 1,
      flushMs: 5,
      logger: silentLogger,
    });
    try {
      lease.take('198.51.100.1');
      await waitFor(() => !lease.shared, { what: 'the settlement to fail' });
      for (let i = 0; i < 3; i++) expect(() => lease.take('198.51.100.1')).not.toThrow();
      expect(() => lease.take('198.51.100.1')).toThrow(RateLimitedError);
    } finally {
      await lease.close();
      down.disconnect();
    }
  });
});

describe('limits shared through Redis Cluster', () => {
  let cluster: TestRedisCluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it('two instances on a cluster hold one limit (the bucket key is hash-tagged)', async () => {
    cluster = await startTestRedisCluster();
    const rateLimit = { savesPerSecond: 1, burst: 3, ipPerSecond: 1000, ipBurst: 1000 };
    const redisCluster = { nodes: cluster.seeds };
    const a = await testServer({ redisCluster, rateLimit, instanceId: 'lim-ca' });
    const b = await testServer({ redisCluster, rateLimit, instanceId: 'lim-cb' });
    // Until an instance's limiter has its cluster client ready it lets requests through:
    // run another user's bucket out on each instance first, so both count from here on.
    for (const server of [a, b]) {
      const warmUp = await tokenFor(newUser());
      await waitFor(
        async () => (await api(server, 'GET', PATH, { token: warmUp })).status === 429,
        {
          what: 'the limiter of each instance to count in the cluster',
          timeoutMs: 10_000,
        },
      );
    }
    const user = newUser();
    const token = await tokenFor(user);
    const started = performance.now();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await api(i % 2 === 0 ? a : b, 'GET', PATH, { token })).status);
    }
    const seconds = (performance.now() - started) / 1000;
    // One bucket for both: the burst of 3, plus what 1/s refilled while the loop ran.
    // (The user has no state yet: a request let through is answered 404.)
    const through = statuses.filter((status) => status === 404).length;
    expect(statuses.filter((status) => status !== 404 && status !== 429)).toEqual([]);
    expect(through).toBeGreaterThanOrEqual(3);
    expect(through).toBeLessThanOrEqual(3 + Math.ceil(seconds));
    // Once counted in the cluster, both instances refuse the same user.
    expect((await api(a, 'GET', PATH, { token })).status).toBe(429);
    expect((await api(b, 'GET', PATH, { token })).status).toBe(429);
    // The bucket is in the cluster, not in either instance.
    const key = stateScope('acme', user).userBucketKey;
    const owner = await cluster.primaryPortOf(key);
    expect((await cluster.cli(['EXISTS', key], owner)).trim()).toBe('1');
  }, 60_000);
});

describe('socket messages', () => {
  it('answers 429 to every kind of message past the limit, then closes a flooding socket with 1008', async () => {
    const server = await testServer({
      redisUrl: redis.url,
      rateLimit: { savesPerSecond: 1, burst: 3, ipPerSecond: 1000, ipBurst: 1000 },
      instanceId: 'lim-ws',
    });
    const { socket } = await TestSocket.ready(wsUrl(server), await tokenFor(newUser()));
    sockets.push(socket);
    socket.send('{not json');
    socket.send({ type: 'explode', id: 'bad' });
    socket.send({ type: 'save', id: 's1', state: makeState() });
    socket.send({ type: 'delete', id: 'd1' });
    const limited = await socket.next('error', (m) => m.id === 'd1');
    expect(limited).toMatchObject({ status: 429, error: 'rate_limited' });
    for (let i = 0; i < 40 && socket.closed === undefined; i++) socket.send('{flood');
    expect((await socket.waitClosed()).code).toBe(1008);
  });
});

describe('message size', () => {
  it('caps messages at the body limit even when the host registered @fastify/websocket', async () => {
    const host = Fastify();
    // ws's own default (100 MiB) would apply to this server's sockets.
    await host.register(websocket);
    const service = new StatePersistenceService({ store: new MemoryStateStore() });
    await host.register(dashboardStatePlugin, { service, authSecret: TEST_SECRET });
    await host.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = host.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const socket = await TestSocket.open(`ws://127.0.0.1:${port}${PATH}/subscribe`, {
        token: await tokenFor(newUser()),
      });
      sockets.push(socket);
      await socket.next('ready');
      socket.send('x'.repeat(3 * 1024 * 1024));
      expect((await socket.waitClosed()).code).toBe(1009);
    } finally {
      await host.close();
      await service.close();
    }
  });
});
