// Every option given in code that is missing or malformed fails with an OptionError that
// names it (`option` and the start of the message), before anything starts: the plugin's,
// the service's, the stores' and startServer's own. A secret is never echoed.
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createMemoryStateStore,
  createRedisStateStore,
  createStateStore,
  type DashboardStatePluginOptions,
  dashboardStatePlugin,
  MemoryStateStore,
  OptionError,
  RedisStateStore,
  StatePersistenceService,
  startServer,
} from '../src/index.js';
import { TEST_SECRET } from './support/servers.js';

const service = new StatePersistenceService({ store: new MemoryStateStore() });
afterAll(() => service.close());

/** The OptionError `attempt` throws or rejects with (fails the test when it is another). */
async function optionErrorOf(attempt: () => unknown): Promise<OptionError> {
  let caught: unknown;
  try {
    await attempt();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(OptionError);
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as OptionError;
}

function expectNames(error: OptionError, option: string): void {
  expect(error.option).toBe(option);
  expect(error.message.startsWith(`${option} `)).toBe(true);
}

const pluginCases: Array<[string, Record<string, unknown>]> = [
  ['authSecret', { authSecret: undefined }],
  ['authSecret', { authSecret: '' }],
  ['authSecret', { authSecret: 42 }],
  ['service', { service: undefined }],
  ['service', { service: {} }],
  ['authPublicKey', { authPublicKey: 'not a pem' }],
  ['authJwksUrl', { authJwksUrl: 'ftp://keys.example.com/jwks.json' }],
  ['authJwksUrl', { authJwksUrl: 'not a url' }],
  ['tokenPolicy', { tokenPolicy: 'strict' }],
  ['tokenPolicy.maxLifetimeSeconds', { tokenPolicy: { maxLifetimeSeconds: 0 } }],
  ['tokenPolicy.issuer', { tokenPolicy: { issuer: '' } }],
  ['rateLimit', { rateLimit: true }],
  ['rateLimit.savesPerSecond', { rateLimit: { burst: 4 } }],
  ['rateLimit.savesPerSecond', { rateLimit: { savesPerSecond: 0, burst: 4 } }],
  ['rateLimit.savesPerSecond', { rateLimit: { savesPerSecond: Number.NaN, burst: 4 } }],
  ['rateLimit.burst', { rateLimit: { savesPerSecond: 1, burst: 0 } }],
  ['rateLimit.ipPerSecond', { rateLimit: { savesPerSecond: 1, burst: 2, ipPerSecond: 'many' } }],
  ['rateLimit.ipBurst', { rateLimit: { savesPerSecond: 1, burst: 2, ipBurst: -1 } }],
  ['requestLimiter', { requestLimiter: { ip() {} } }],
  ['redisConnectTimeoutMs', { redisConnectTimeoutMs: -1 }],
  ['securityHeaders', { securityHeaders: 'yes' }],
  ['authTimeoutMs', { authTimeoutMs: 0 }],
  ['heartbeatIntervalMs', { heartbeatIntervalMs: Number.POSITIVE_INFINITY }],
  ['stallTimeoutMs', { stallTimeoutMs: 0 }],
  ['coalesceWindowMs', { coalesceWindowMs: -1 }],
  ['coalesceWindowMs', { coalesceWindowMs: 2 ** 31 }],
  ['metrics', { metrics: {} }],
  ['onSocketClose', { onSocketClose: 'log it' }],
];

describe('the plugin', () => {
  it.each(pluginCases)('names %s', async (option, given) => {
    const app = Fastify();
    app.register(dashboardStatePlugin, {
      service,
      authSecret: TEST_SECRET,
      ...given,
    } as unknown as DashboardStatePluginOptions);
    const error = await optionErrorOf(() => app.ready());
    expectNames(error, option);
    await app.close();
  });

  it('never echoes the secret it refuses', async () => {
    const app = Fastify();
    app.register(dashboardStatePlugin, {
      service,
      authSecret: '   ',
    } as unknown as DashboardStatePluginOptions);
    const error = await optionErrorOf(() => app.ready());
    expect(error.message).toBe(
      'authSecret must be a non-empty string (the HS256 secret tokens are signed with; is AUTH_SECRET set?) (got a string of 3 characters)',
    );
    await app.close();
  });
});

const storeCases: Array<[string, string, () => unknown]> = [
  ['RedisStateStore', 'redisUrl', () => new RedisStateStore({})],
  ['RedisStateStore', 'redisUrl', () => new RedisStateStore({ redisUrl: 'http://127.0.0.1:6379' })],
  [
    'RedisStateStore',
    'redisUrl',
    () => new RedisStateStore({ redisUrl: 'redis://127.0.0.1:1', url: 'redis://127.0.0.1:2' }),
  ],
  ['RedisStateStore', 'url', () => new RedisStateStore({ url: '127.0.0.1:6379' })],
  [
    'createRedisStateStore',
    'cluster.nodes',
    () => createRedisStateStore({ cluster: { nodes: [] } }),
  ],
  [
    'createRedisStateStore',
    'cluster.nodes[0].port',
    () => createRedisStateStore({ cluster: { nodes: [{ host: '10.0.0.1', port: 70_000 }] } }),
  ],
  [
    'createRedisStateStore',
    'cluster.nodes[0].host',
    () => createRedisStateStore({ cluster: { nodes: [{ host: '', port: 7000 }] } }),
  ],
  [
    'createRedisStateStore',
    'cluster.pubsub',
    () =>
      createRedisStateStore({
        cluster: {
          nodes: [{ host: '10.0.0.1', port: 7000 }],
          pubsub: 'broadcast' as unknown as 'classic',
        },
      }),
  ],
  [
    'RedisStateStore',
    'commandTimeoutMs',
    () => new RedisStateStore({ redisUrl: 'redis://127.0.0.1:1', commandTimeoutMs: 0 }),
  ],
  [
    'RedisStateStore',
    'connectTimeoutMs',
    () => new RedisStateStore({ redisUrl: 'redis://127.0.0.1:1', connectTimeoutMs: -5 }),
  ],
  [
    'RedisStateStore',
    'maxReconnectDelayMs',
    () =>
      new RedisStateStore({
        redisUrl: 'redis://127.0.0.1:1',
        maxReconnectDelayMs: 'soon' as unknown as number,
      }),
  ],
  [
    'RedisStateStore',
    'connectionName',
    () => new RedisStateStore({ redisUrl: 'redis://127.0.0.1:1', connectionName: '' }),
  ],
  [
    'RedisStateStore',
    'logger',
    () =>
      new RedisStateStore({
        redisUrl: 'redis://127.0.0.1:1',
        logger: console.log as unknown as never,
      }),
  ],
  ['createStateStore', 'redisUrl', () => createStateStore({ redisUrl: 'localhost:6379' })],
  ['createStateStore', 'options', () => createStateStore('redis://x' as unknown as object)],
  [
    'createMemoryStateStore',
    'sweepIntervalMs',
    () => createMemoryStateStore({ sweepIntervalMs: 0 }),
  ],
  ['MemoryStateStore', 'now', () => new MemoryStateStore({ now: 5 as unknown as () => number })],
  [
    'StatePersistenceService',
    'store',
    () => new StatePersistenceService({} as unknown as { store: MemoryStateStore }),
  ],
  [
    'StatePersistenceService',
    'ttlSeconds',
    () => new StatePersistenceService({ store: new MemoryStateStore(), ttlSeconds: 0 }),
  ],
  [
    'StatePersistenceService',
    'maxStateBytes',
    () => new StatePersistenceService({ store: new MemoryStateStore(), maxStateBytes: -1 }),
  ],
  [
    'StatePersistenceService',
    'maxClockSkewMs',
    () => new StatePersistenceService({ store: new MemoryStateStore(), maxClockSkewMs: -1 }),
  ],
];

describe('the stores and the service', () => {
  it.each(storeCases)('%s names %s', async (_what, option, build) => {
    expectNames(await optionErrorOf(build), option);
  });
});

const serverCases: Array<[string, Parameters<typeof startServer>[0]]> = [
  ['port', { port: 70_000 }],
  ['host', { host: '' }],
  ['logLevel', { logLevel: 'loud' }],
  ['redisUrl', { redisUrl: 'localhost:6379' }],
  ['redisCluster.nodes', { redisCluster: { nodes: [] } }],
  ['metricsPort', { metricsPort: -1 }],
  ['trustProxy', { trustProxy: 3 as unknown as boolean }],
  ['staticDir', { staticDir: '/no/such/folder' }],
  ['authSecret', { authSecret: '' }],
  ['ttlSeconds', { ttlSeconds: 1.5 }],
  ['rateLimit.burst', { rateLimit: { savesPerSecond: 5, burst: 0 } }],
  ['stallTimeoutMs', { stallTimeoutMs: -1 }],
];

describe('startServer', () => {
  it.each(serverCases)('names %s', async (option, options) => {
    expectNames(await optionErrorOf(() => startServer({ logLevel: 'silent', ...options })), option);
  });
});
