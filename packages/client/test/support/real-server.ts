// The real server over a real test Redis, for client integration tests. `setUpRealServer()`
// (called at the top of a test file) gives: one server instance started before all tests
// (more with `startInstance`, all closed after them), fresh user ids and their tokens, the
// stored copy over HTTP, and `device()`: an engine synced through a real `ws` socket with
// no host storage or cross-tab channel, stopped after each test.
import { type RunningServer, signToken, startServer } from '@hyvve/server';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { WebSocket } from 'ws';
import { startTestRedis, type TestRedis } from '../../../../test-support/redis-server.js';
import {
  createDashboardStore,
  createStatePersistence,
  type DashboardStoreApi,
  type PersistenceError,
  type ServerSyncOptions,
  type SocketLike,
  type StatePersistence,
  type StatePersistenceOptions,
} from './client.js';
import { SpyStorage } from './fakes.js';

export interface RealServerOptions {
  /** Token secret of the server and the devices. */
  secret: string;
  workspaceId: string;
  /** Start of the ids `newUser()` makes (unique per process and call). */
  userPrefix: string;
}

export interface RealDevice {
  store: DashboardStoreApi;
  storage: SpyStorage;
  engine: StatePersistence;
  errors: PersistenceError[];
}

export interface RealDeviceOptions extends Omit<StatePersistenceOptions, 'storage' | 'server'> {
  /** @default a new dashboard store */
  store?: DashboardStoreApi;
  /** @default a new, empty SpyStorage */
  storage?: SpyStorage;
  /** The server instance to sync with. @default the first instance */
  url?: string;
  /** Wraps the real socket the engine opens (a message gate, a rewriter). */
  wrapSocket?: (socket: SocketLike) => SocketLike;
  /** Merged over the server-sync defaults (real socket, token of the user). */
  sync?: Partial<ServerSyncOptions>;
}

export interface RealServer {
  readonly redis: TestRedis;
  /** The instance started before all tests. */
  readonly server: RunningServer;
  /** Starts another instance on the same Redis (`port` to restart one); closed after all tests. */
  startInstance(port?: number): Promise<RunningServer>;
  newUser(): string;
  token(userId: string): Promise<string>;
  /** GET /api/dashboard/state as `userId`. @default on the first instance */
  fetchState(userId: string, url?: string): Promise<Response>;
  /** An engine of `userId`, started now and stopped after the test. */
  device(userId: string, options?: RealDeviceOptions): RealDevice;
}

export function setUpRealServer({
  secret,
  workspaceId,
  userPrefix,
}: RealServerOptions): RealServer {
  let redis: TestRedis | undefined;
  const instances: RunningServer[] = [];
  const running: StatePersistence[] = [];
  let userCounter = 0;

  const startInstance = async (port = 0): Promise<RunningServer> => {
    if (!redis) throw new Error('setUpRealServer: Redis is not started yet (use it inside tests)');
    const instance = await startServer({
      port,
      redisUrl: redis.url,
      authSecret: secret,
      rateLimit: false,
      logLevel: 'silent',
    });
    instances.push(instance);
    return instance;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    await startInstance();
  });
  afterAll(async () => {
    // close() is safe to call twice: tests may have closed an instance already.
    for (const instance of instances) await instance.close();
    await redis?.close();
  });
  afterEach(() => {
    for (const engine of running.splice(0)) engine.stop();
  });

  const setup: RealServer = {
    get redis() {
      if (!redis)
        throw new Error('setUpRealServer: Redis is not started yet (use it inside tests)');
      return redis;
    },
    get server() {
      const first = instances[0];
      if (!first) throw new Error('setUpRealServer: no server yet (use it inside tests)');
      return first;
    },
    startInstance,
    newUser: () => `${userPrefix}-${process.pid}-${++userCounter}`,
    token: (userId) => signToken({ userId, workspaceId, secret }),
    async fetchState(userId, url = setup.server.url) {
      const token = await setup.token(userId);
      return fetch(`${url}/api/dashboard/state`, { headers: { authorization: `Bearer ${token}` } });
    },
    device(userId, options = {}) {
      const {
        store = createDashboardStore(),
        storage = new SpyStorage(),
        url = setup.server.url,
        wrapSocket,
        sync,
        ...engineOptions
      } = options;
      const errors: PersistenceError[] = [];
      const engine = createStatePersistence(store, {
        storageKey: 'integration',
        storage,
        createChannel: null,
        lifecycle: {},
        debounceMs: 100,
        onError: (error) => errors.push(error),
        ...engineOptions,
        server: {
          url,
          getToken: () => setup.token(userId),
          createWebSocket: (socketUrl) => {
            const socket = new WebSocket(socketUrl) as unknown as SocketLike;
            return wrapSocket ? wrapSocket(socket) : socket;
          },
          reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
          ...sync,
        },
      });
      running.push(engine);
      engine.start();
      return { store, storage, engine, errors };
    },
  };
  return setup;
}
