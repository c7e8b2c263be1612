// The plugin mounted in a host's own Fastify app is as safe as `startServer`: the same
// protective headers on API answers, limits kept in Redis when its store is a Redis
// store (two host instances share a user's limit), the warning for a Redis that persists
// nothing in the host's log, and the limiter it made closed with the app.
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import {
  createMemoryStateStore,
  createStateStore,
  type DashboardStatePluginOptions,
  dashboardStatePlugin,
  RedisStateStore,
  StatePersistenceService,
} from '../src/index.js';
import { stateScope } from '../src/scope.js';
import { TEST_SECRET, testServer, tokenFor } from './support/servers.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const HELMET_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];
let redis: TestRedis;
let admin: Redis;
const closers: Array<() => Promise<unknown>> = [];
let count = 0;
const newUser = () => `host-${++count}`;

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  admin.disconnect();
  await redis.close();
});

/** pino writing JSON lines into `lines`, as a host's logger would. */
function capturedLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

/** A host app with a route of its own and the plugin; closed (then its service) after the file. */
async function hostApp(
  options: Partial<DashboardStatePluginOptions> & { redisUrl?: string; connectionName?: string },
  logger: FastifyBaseLogger = pino({ level: 'silent' }),
): Promise<FastifyInstance> {
  const { redisUrl, connectionName, ...pluginOptions } = options;
  const service = new StatePersistenceService({
    store: createStateStore({
      ...(redisUrl === undefined ? {} : { redisUrl }),
      ...(connectionName === undefined ? {} : { connectionName }),
    }),
  });
  const app = Fastify({ loggerInstance: logger });
  app.get('/host-page', async () => 'the host’s own route');
  await app.register(dashboardStatePlugin, { service, authSecret: TEST_SECRET, ...pluginOptions });
  await app.ready();
  closers.push(async () => {
    await app.close();
    await service.close();
  });
  return app;
}

function helmetHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(HELMET_HEADERS.map((name) => [name, headers[name]]));
}

describe('protective headers', () => {
  it('are those of startServer on the API’s answers, and stay off the host’s own routes', async () => {
    const server = await testServer();
    const host = await hostApp({});
    const token = await tokenFor(newUser());
    const reference = helmetHeaders(
      (
        await server.app.inject({
          method: 'GET',
          url: PATH,
          headers: { authorization: `Bearer ${token}` },
        })
      ).headers,
    );
    expect(reference['x-content-type-options']).toBe('nosniff');
    expect(reference['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    for (const request of [
      { method: 'GET' as const, url: PATH },
      { method: 'GET' as const, url: PATH, headers: { authorization: `Bearer ${token}` } },
      {
        method: 'POST' as const,
        url: PATH,
        headers: { authorization: `Bearer ${token}` },
        payload: { state: makeState() },
      },
      { method: 'GET' as const, url: `${PATH}/subscribe` },
    ]) {
      const answer = await host.inject(request);
      expect(answer.statusCode).toBeLessThan(500);
      expect(helmetHeaders(answer.headers)).toEqual(reference);
    }
    const own = await host.inject({ method: 'GET', url: '/host-page' });
    expect(own.headers['content-security-policy']).toBeUndefined();
  });

  it('stay on when an option is given as undefined (plain JavaScript): defaults apply', async () => {
    const app = await hostApp({
      securityHeaders: undefined,
      stallTimeoutMs: undefined,
      heartbeatIntervalMs: undefined,
    } as unknown as Partial<DashboardStatePluginOptions>);
    const api = await app.inject({ method: 'GET', url: PATH });
    expect(api.statusCode).toBe(401);
    expect(api.headers['x-content-type-options']).toBe('nosniff');
  });

  it('cover every answer of the app with `app`, and none with false', async () => {
    const everywhere = await hostApp({ securityHeaders: 'app' });
    const own = await everywhere.inject({ method: 'GET', url: '/host-page' });
    expect(own.headers['x-frame-options']).toBe('DENY');
    const none = await hostApp({ securityHeaders: false });
    const api = await none.inject({ method: 'GET', url: PATH });
    expect(api.statusCode).toBe(401);
    for (const name of HELMET_HEADERS) expect(api.headers[name]).toBeUndefined();
  });
});

describe('limits', () => {
  it('are kept in the store’s Redis: two host instances share one user’s limit', async () => {
    const rateLimit = { savesPerSecond: 1, burst: 4, ipPerSecond: 1000, ipBurst: 1000 };
    const a = await hostApp({ redisUrl: redis.url, connectionName: 'host-a', rateLimit });
    const b = await hostApp({ redisUrl: redis.url, connectionName: 'host-b', rateLimit });
    const user = newUser();
    const token = await tokenFor(user);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await (i % 2 === 0 ? a : b).inject({
        method: 'POST',
        url: PATH,
        headers: { authorization: `Bearer ${token}` },
        payload: { state: makeState({ timestamp: 1_700_000_000_000 + i }) },
      });
      statuses.push(answer.statusCode);
    }
    // Four in the shared burst (at most one more refilled meanwhile), then 429s; a limit
    // per process would have let all eight through (four on each).
    const saved = statuses.filter((status) => status === 200).length;
    expect(saved).toBeGreaterThanOrEqual(4);
    expect(saved).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8 - saved);
    expect(await admin.exists(stateScope('acme', user).userBucketKey)).toBe(1);
    const clients = String(await admin.client('LIST'));
    expect(clients).toContain('name=host-a:limit');
    expect(clients).toContain('name=host-b:limit');
    expect(a.dashboardStateLimiter).toBeDefined();
  });

  it('stay in the process with a memory store: each instance has its own', async () => {
    const rateLimit = { savesPerSecond: 1, burst: 2, ipPerSecond: 1000, ipBurst: 1000 };
    const app = await hostApp({ rateLimit });
    const token = await tokenFor(newUser());
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await app.inject({
        method: 'POST',
        url: PATH,
        headers: { authorization: `Bearer ${token}` },
        payload: { state: makeState({ timestamp: 1_700_000_000_000 + i }) },
      });
      statuses.push(answer.statusCode);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses[2]).toBe(429);
  });

  it('close their Redis connection with the app, leaving the given service open', async () => {
    const service = new StatePersistenceService({
      store: createStateStore({ redisUrl: redis.url, connectionName: 'host-closing' }),
    });
    const app = Fastify();
    await app.register(dashboardStatePlugin, { service, authSecret: TEST_SECRET });
    await app.ready();
    expect(String(await admin.client('LIST'))).toContain('name=host-closing:limit');
    await app.close();
    const after = await waitFor(
      async () => {
        const list = String(await admin.client('LIST'));
        return list.includes('name=host-closing:limit') ? undefined : list;
      },
      { what: 'the limiter connection to go' },
    );
    expect(after).toContain('name=host-closing:cmd');
    expect(await service.ready()).toBe(true);
    await service.close();
  });
});

describe('warnings in the host’s log', () => {
  it('says loudly that a Redis persisting nothing loses every state on restart', async () => {
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'save', '');
    try {
      const { lines, logger } = capturedLogger();
      await hostApp({ redisUrl: redis.url, connectionName: 'host-persist' }, logger);
      const warning = lines.find((line) => /PERSISTS NOTHING/.test(line.msg));
      expect(warning?.level).toBe(40);
    } finally {
      await admin.config('SET', 'appendonly', 'yes');
    }
  });

  it('says that a memory store keeps states in this process only', async () => {
    const { lines, logger } = capturedLogger();
    const service = new StatePersistenceService({ store: createMemoryStateStore() });
    const app = Fastify({ loggerInstance: logger });
    await app.register(dashboardStatePlugin, { service, authSecret: 'short' });
    await app.ready();
    await app.close();
    await service.close();
    const warnings = lines.filter((line) => line.level === 40).map((line) => line.msg);
    expect(warnings).toEqual([
      expect.stringMatching(/^authSecret is shorter than 32 characters/),
      expect.stringMatching(/IN THIS PROCESS ONLY/),
    ]);
  });
});

describe('one option name per thing', () => {
  it('RedisStateStore takes redisUrl, as createStateStore and startServer do (url still works)', async () => {
    for (const options of [{ redisUrl: redis.url }, { url: redis.url }]) {
      const store = new RedisStateStore({ ...options, connectionName: 'naming' });
      const service = new StatePersistenceService({ store });
      try {
        expect(store.target).toEqual({ url: redis.url });
        expect(await store.waitUntilReady(5000)).toBe(true);
        const owner = { workspaceId: 'acme', userId: newUser() };
        await service.save(owner, makeState({ activeProject: 'named' }));
        expect((await service.load(owner))?.state.activeProject).toBe('named');
      } finally {
        await service.close();
      }
    }
  });
});
