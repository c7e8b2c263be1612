// Starts a complete server: store (Redis when a URL is given, else in-process memory:
// redisTarget and createStateStore decide), service, Fastify app (the plugin inside it
// adds the limits, headers and store warnings any host gets), listening socket, and a
// close() that shuts it all down once.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { closeConnectionsOnShutdown } from './http/close-connections.js';
import { METRICS_PATH, registerMetricsRoute } from './http/metrics-route.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  defaultDevAuth,
  isLoopbackHost,
  redisTarget,
  type ServerOptions,
} from './options.js';
import { checkServerOptions } from './server-option-checks.js';
import { StatePersistenceService } from './service/state-persistence-service.js';
import { createStateStore } from './store/create-store.js';
import { RedisStateStore } from './store/redis/redis-store.js';

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
  checkServerOptions(options);
  const instanceId = options.instanceId ?? randomBytes(4).toString('hex');
  const logger = pino({
    level: options.logLevel ?? 'info',
    base: { instance: instanceId },
    redact: ['req.headers.authorization', 'headers.authorization'],
  });
  const authSecret = options.authSecret ?? randomBytes(32).toString('base64url');
  const host = options.host ?? DEFAULT_HOST;
  const devAuth = options.devAuth ?? defaultDevAuth(options.authSecret !== undefined, host);
  if (options.authSecret === undefined && !devAuth) {
    logger.warn(
      { host },
      'AUTH_SECRET is not set and the dev sign-in is off (HOST is not a loopback address; DEV_AUTH=1 turns it on): no token can be made for this server',
    );
  }
  const metrics = new ServerMetrics({ enabled: options.metrics ?? true });

  const redis = redisTarget(options);
  const store = createStateStore({
    ...(redis && 'cluster' in redis ? { cluster: redis.cluster } : { redisUrl: redis?.url }),
    connectionName: `hyvve:${instanceId}`,
    logger,
    metrics,
  });
  if (store instanceof RedisStateStore) {
    if (options.redisCluster) {
      logger.info(
        {
          store: store.kind,
          nodes: options.redisCluster.nodes.map((node) => `${node.host}:${node.port}`),
          pubsub: options.redisCluster.pubsub ?? 'sharded',
        },
        'state store: Redis Cluster',
      );
    } else {
      logger.info({ store: 'redis', url: redactUrl(options.redisUrl ?? '') }, 'state store: Redis');
    }
  }
  let service: StatePersistenceService;
  try {
    service = new StatePersistenceService({
      store,
      logger,
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
    });
  } catch (error) {
    // A bad ttlSeconds or maxClockSkewMs: the store was opened already.
    await store.close();
    throw error;
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

  let app: FastifyInstance;
  try {
    app = buildApp({
      service,
      authSecret,
      devAuth,
      logger,
      metrics,
      serveMetrics: options.metricsPort === undefined,
      ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
      ...(options.staticDir === undefined ? {} : { staticDir: options.staticDir }),
      // The plugin applies these (Redis-backed with a Redis store), and warns about the
      // store, as it does for any host: plugin-limits.ts, store-start.ts.
      rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
      redisConnectTimeoutMs: options.redisConnectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
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
  } catch (error) {
    // A bad option found while building (staticDir, dev sign-in in production).
    await service.close();
    throw error;
  }
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
    await app.listen({ port: options.port ?? DEFAULT_PORT, host });
    await metricsApp?.listen({ port: options.metricsPort ?? 0, host });
  } catch (error) {
    await Promise.allSettled([app.close(), metricsApp?.close()]);
    await service.close();
    throw error;
  }
  const port = listeningPort(app, options.port ?? DEFAULT_PORT);
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
