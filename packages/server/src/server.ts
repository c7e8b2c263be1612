// Starts a complete server: store (Redis when a URL is given, else in-process memory),
// service, Fastify app, listening socket, and a close() that shuts it all down once.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './app.js';
import type { TokenPolicy } from './auth/token.js';
import { isLoopbackHost } from './config.js';
import { closeConnectionsOnShutdown } from './http/close-connections.js';
import { METRICS_PATH, registerMetricsRoute } from './http/metrics-route.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import {
  memoryRequestLimiter,
  type RequestLimiter,
  redisRequestLimiter,
} from './rate-limit/request-limiter.js';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions } from './rate-limit/token-buckets.js';
import { StatePersistenceService } from './service/state-persistence-service.js';
import { MemoryStateStore } from './store/memory-store.js';
import type { RedisClusterOptions } from './store/redis/cluster.js';
import { warnIfRedisNotPersistent } from './store/redis/persistence.js';
import { RedisStateStore } from './store/redis/redis-store.js';
import type { StateStore } from './store/state-store.js';

export interface ServerOptions {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Redis to persist in and publish through; absent = in-process memory store (one instance only). */
  redisUrl?: string;
  /** A Redis Cluster instead of `redisUrl` (seed nodes, credentials, pub/sub mode). */
  redisCluster?: RedisClusterOptions;
  /** HS256 secret of the bearer tokens; absent = a random per-process secret. */
  authSecret?: string;
  /** An identity provider's public key (PEM): its RS256/ES256/EdDSA tokens are accepted. */
  authPublicKey?: string;
  /** An identity provider's JWKS address: its RS256/ES256/EdDSA tokens are accepted. */
  authJwksUrl?: string;
  /** Lifetime (at most 24 h by default), issuer and audience a token must meet. */
  tokenPolicy?: TokenPolicy;
  /** Proxies whose X-Forwarded-For names the client (Fastify's trustProxy). @default false */
  trustProxy?: boolean | string;
  /**
   * Enables POST /api/dev/token (refused with NODE_ENV=production).
   * @default true exactly when no authSecret is given and host is a loopback address
   */
  devAuth?: boolean;
  /** @default 86400 */
  ttlSeconds?: number;
  /** Largest lead of a saved `state.timestamp` over the server clock (400 beyond). @default 300000 */
  maxClockSkewMs?: number;
  /** Folder of a built web app served at `/`. */
  staticDir?: string;
  /** pino level. @default 'info' */
  logLevel?: string;
  /**
   * Per-user and per-IP limits of every request and socket message, in Redis when
   * `redisUrl` is set (shared by instances); false disables. @default DEFAULT_RATE_LIMIT
   */
  rateLimit?: RateLimitOptions | false;
  /** Names this instance in logs and in Redis CLIENT LIST. @default random */
  instanceId?: string;
  /** @default 5000 */
  authTimeoutMs?: number;
  /** @default 30000 */
  heartbeatIntervalMs?: number;
  /** A WebSocket whose reader drained nothing for this long is closed with 4408. @default 30000 */
  stallTimeoutMs?: number;
  /** Longest a hot socket's changes are held to leave in one write (0: never held). @default 40 */
  coalesceWindowMs?: number;
  /** Called when the server closes a WebSocket with a code (1001, 1013, 4401, 4408), e.g. for metrics. */
  onSocketClose?: (code: number, reason: string) => void;
  /** How long start waits for Redis before serving anyway (503 until it comes). @default 3000 */
  redisConnectTimeoutMs?: number;
  /** Serve GET /metrics on this port (same host) instead of the API's; 0 picks a free one. */
  metricsPort?: number;
  /** Bearer token GET /metrics requires. @default none (open) */
  metricsToken?: string;
  /** False: no metrics are counted and /metrics is not served. @default true */
  metrics?: boolean;
}

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  app: FastifyInstance;
  service: StatePersistenceService;
  /** The secret tokens must be signed with (the random one when none was configured). */
  authSecret: string;
  /** The Prometheus metrics of this server (its own registry). */
  metrics: ServerMetrics;
  /** Where GET /metrics is served: `${url}/metrics`, or on the metrics port. */
  metricsUrl: string;
  /** Closes sockets (1001), waits for saves in flight, closes the store. Safe to call twice. */
  close(): Promise<void>;
}

/** A Redis URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparsable url)';
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const instanceId = options.instanceId ?? randomBytes(4).toString('hex');
  const logger = pino({
    level: options.logLevel ?? 'info',
    base: { instance: instanceId },
    redact: ['req.headers.authorization', 'headers.authorization'],
  });
  const authSecret = options.authSecret ?? randomBytes(32).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  const devAuth = options.devAuth ?? (options.authSecret === undefined && isLoopbackHost(host));
  if (options.authSecret === undefined && !devAuth) {
    logger.warn(
      { host },
      'AUTH_SECRET is not set and the dev sign-in is off (HOST is not a loopback address; DEV_AUTH=1 turns it on): no token can be made for this server',
    );
  }
  const metrics = new ServerMetrics({ enabled: options.metrics ?? true });

  let store: StateStore;
  if (options.redisUrl || options.redisCluster) {
    const redis = new RedisStateStore({
      ...(options.redisCluster
        ? { cluster: options.redisCluster }
        : { url: options.redisUrl ?? '' }),
      connectionName: `hyvve:${instanceId}`,
      logger,
      metrics,
    });
    store = redis;
    if (options.redisCluster) {
      logger.info(
        {
          store: redis.kind,
          nodes: options.redisCluster.nodes.map((node) => `${node.host}:${node.port}`),
          pubsub: options.redisCluster.pubsub ?? 'sharded',
        },
        'state store: Redis Cluster',
      );
    } else {
      logger.info({ store: 'redis', url: redactUrl(options.redisUrl ?? '') }, 'state store: Redis');
    }
    if (await redis.waitUntilReady(options.redisConnectTimeoutMs ?? 3000)) {
      await warnIfRedisNotPersistent(() => redis.persistence(), logger);
    } else {
      logger.warn('Redis is not reachable yet: serving 503 for state requests until it is');
    }
  } else {
    store = new MemoryStateStore({ logger });
    logger.warn(
      { store: 'memory' },
      'REDIS_URL is not set: state is kept IN THIS PROCESS ONLY (lost on restart, one instance only)',
    );
  }
  const service = new StatePersistenceService({
    store,
    logger,
    ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
  });
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  let requestLimiter: RequestLimiter | undefined;
  if (rateLimit && (options.redisUrl || options.redisCluster)) {
    requestLimiter = redisRequestLimiter(rateLimit, {
      ...(options.redisCluster
        ? { cluster: options.redisCluster }
        : { url: options.redisUrl ?? '' }),
      connectionName: `hyvve:${instanceId}:limit`,
      logger,
    });
    // Until it is connected the limiter lets requests through: give it the store's time.
    if (!(await requestLimiter.waitUntilReady?.(options.redisConnectTimeoutMs ?? 3000))) {
      logger.warn('the rate limiter cannot reach Redis yet: requests pass unlimited until it can');
    }
  } else if (rateLimit) {
    requestLimiter = memoryRequestLimiter(rateLimit);
  }
  if (devAuth) {
    logger.warn(
      {
        devAuth: true,
        secret: options.authSecret === undefined ? 'random per process' : 'configured',
      },
      options.devAuth === true && !isLoopbackHost(host)
        ? `DEV AUTH IS ON FOR EVERYONE WHO CAN REACH ${host}: POST /api/dev/token gives a token for any user (DEV_AUTH=1)`
        : 'DEV AUTH IS ON: POST /api/dev/token gives a token for any user (set AUTH_SECRET to turn it off)',
    );
  }

  const app = buildApp({
    service,
    authSecret,
    devAuth,
    logger,
    metrics,
    serveMetrics: options.metricsPort === undefined,
    ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
    ...(options.staticDir === undefined ? {} : { staticDir: options.staticDir }),
    rateLimit,
    ...(requestLimiter === undefined ? {} : { requestLimiter }),
    ...(options.tokenPolicy === undefined ? {} : { tokenPolicy: options.tokenPolicy }),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.authPublicKey === undefined ? {} : { authPublicKey: options.authPublicKey }),
    ...(options.authJwksUrl === undefined ? {} : { authJwksUrl: options.authJwksUrl }),
    ...(options.authTimeoutMs === undefined ? {} : { authTimeoutMs: options.authTimeoutMs }),
    ...(options.heartbeatIntervalMs === undefined
      ? {}
      : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
    ...(options.onSocketClose === undefined ? {} : { onSocketClose: options.onSocketClose }),
    ...(options.coalesceWindowMs === undefined
      ? {}
      : { coalesceWindowMs: options.coalesceWindowMs }),
  });
  const baseLogger: FastifyBaseLogger = logger;
  const metricsApp =
    options.metricsPort === undefined || !metrics.enabled
      ? undefined
      : Fastify({ loggerInstance: baseLogger });
  if (metricsApp) {
    closeConnectionsOnShutdown(metricsApp);
    registerMetricsRoute(metricsApp, metrics, { token: options.metricsToken });
  }
  try {
    await app.listen({ port: options.port ?? 0, host });
    await metricsApp?.listen({ port: options.metricsPort ?? 0, host });
  } catch (error) {
    await Promise.allSettled([app.close(), metricsApp?.close()]);
    await requestLimiter?.close();
    await service.close();
    throw error;
  }
  const port = listeningPort(app, options.port ?? 0);
  const url = httpUrl(host, port);
  const metricsUrl = `${metricsApp ? httpUrl(host, listeningPort(metricsApp, 0)) : url}${METRICS_PATH}`;
  logger.info({ url, metricsUrl, store: store.kind, devAuth }, 'dashboard state server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    app,
    service,
    authSecret,
    metrics,
    metricsUrl,
    close() {
      closing ??= (async () => {
        try {
          await Promise.all([app.close(), metricsApp?.close()]);
        } finally {
          await requestLimiter?.close();
          await service.close();
          logger.info('dashboard state server closed');
        }
      })();
      return closing;
    },
  };
}

function listeningPort(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
