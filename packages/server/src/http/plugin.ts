// The state API as a Fastify plugin, so any Fastify server can mount it:
//   app.register(dashboardStatePlugin, { service, authSecret })
// It serves the HTTP routes and the subscribe WebSocket, decorates `dashboardState`
// with the service, and on close says 1001 to its sockets and waits for their saves.
// It never closes the service: whoever created it does. It is what makes startServer
// safe, so a host gets the same by default: checked options (plugin-options.ts), the
// protective headers, the limits (Redis-backed with a Redis store: plugin-limits.ts) and
// the store's warnings (store-start.ts).
import websocket from '@fastify/websocket';
import { CloseCode, SUBSCRIBE_PATH } from '@hyvve/schema';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { tokenKeys } from '../auth/token-keys.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import {
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_COALESCE_WINDOW_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  DEFAULT_STALL_TIMEOUT_MS,
} from '../options.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';
import { WriteCoalescer } from '../socket/fan-out/write-coalescer.js';
import { limitMessageSize } from '../socket/frame-limit.js';
import { StateSocket } from '../socket/state-socket.js';
import { announceStore } from '../store/store-start.js';
import { sendApiError } from './error-handler.js';
import { appJsonTextParser } from './json-text.js';
import { pluginLimits } from './plugin-limits.js';
import {
  ADVISED_SECRET_LENGTH,
  checkPluginOptions,
  type DashboardStatePluginOptions,
  type SecurityHeadersScope,
} from './plugin-options.js';
import { requestMetricsHook } from './request-metrics.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerStateRoutes } from './state-routes.js';

export type { DashboardStatePluginOptions, SecurityHeadersScope } from './plugin-options.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The persistence service behind the dashboard state API. */
    dashboardState: StatePersistenceService;
    /** The Prometheus metrics of the dashboard state API. */
    dashboardStateMetrics: ServerMetrics;
    /**
     * The limits the API spends (Redis-backed with a Redis store), for the host's own
     * routes to spend too; undefined when `rateLimit: false`.
     */
    dashboardStateLimiter: RequestLimiter | undefined;
  }
}

// Kept where it was exported from before options.ts held it.
export { DEFAULT_STALL_TIMEOUT_MS };

/** Extra room above the state limit, so an oversized state still reaches us and gets our 413. */
export const BODY_LIMIT_MARGIN_BYTES = 512 * 1024;

/** How often sockets are checked for a stall: a fraction of the timeout, within bounds. */
function stallSweepMs(timeoutMs: number): number {
  return Math.min(Math.max(Math.floor(timeoutMs / 4), 25), 5000);
}

/** `?patches=1` asks for `patch` messages; any other value, or none, keeps full `state` messages. */
function wantsPatches(query: unknown): boolean {
  return typeof query === 'object' && query !== null && 'patches' in query && query.patches === '1';
}

async function dashboardState(
  fastify: FastifyInstance,
  options: DashboardStatePluginOptions,
): Promise<void> {
  checkPluginOptions(options);
  const { service } = options;
  const metrics = options.metrics ?? new ServerMetrics();
  // `??`, not a spread: an option given as undefined (plain JavaScript) takes its default.
  const settings = {
    authTimeoutMs: options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    coalesceWindowMs: options.coalesceWindowMs ?? DEFAULT_COALESCE_WINDOW_MS,
    redisConnectTimeoutMs: options.redisConnectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
    securityHeaders: options.securityHeaders ?? ('api' as SecurityHeadersScope),
    onSocketClose: options.onSocketClose,
  };
  if (options.authSecret.length < ADVISED_SECRET_LENGTH) {
    fastify.log.warn(
      { authSecretLength: options.authSecret.length },
      `authSecret is shorter than ${ADVISED_SECRET_LENGTH} characters: tokens signed with it can be forged by guessing it`,
    );
  }
  const coalescer = new WriteCoalescer({ windowMs: settings.coalesceWindowMs });
  const verifier = new TokenVerifier(
    tokenKeys({
      secret: options.authSecret,
      ...(options.authPublicKey === undefined ? {} : { publicKey: options.authPublicKey }),
      ...(options.authJwksUrl === undefined ? {} : { jwksUrl: options.authJwksUrl }),
    }),
    { ...(options.tokenPolicy === undefined ? {} : { policy: options.tokenPolicy }) },
  );
  // The store's warnings and the limits, as startServer has them (the same code runs there).
  const [, limits] = await Promise.all([
    announceStore(service.store, fastify.log, settings.redisConnectTimeoutMs),
    pluginLimits(options, service, fastify.log, settings.redisConnectTimeoutMs),
  ]);
  const { limiter } = limits;
  const bodyLimit = service.maxStateBytes + BODY_LIMIT_MARGIN_BYTES;
  const sockets = new Set<StateSocket>();
  const inFlight = new Set<Promise<void>>();

  const closeSockets = (): void => {
    for (const socket of sockets) socket.close(CloseCode.goingAway, 'server shutting down');
  };
  fastify.decorate('dashboardState', service);
  fastify.decorate('dashboardStateMetrics', metrics);
  fastify.decorate('dashboardStateLimiter', limiter);
  if (settings.securityHeaders === 'app') registerSecurityHeaders(fastify);
  const apiHeaders = settings.securityHeaders === 'api';

  // Every socket hears when this instance loses its store and when it is back (caught up).
  const stopStatus = service.onStoreStatus((status) => {
    for (const socket of sockets) socket.storeStatus(status);
  });

  const heartbeat = setInterval(() => {
    for (const socket of sockets) socket.heartbeat();
  }, settings.heartbeatIntervalMs);
  heartbeat.unref();
  const sweepMs = stallSweepMs(settings.stallTimeoutMs);
  let lastSweep = performance.now();
  const stallSweep = setInterval(() => {
    const now = performance.now();
    // A sweep that runs late means this process did not run (a GC pause, a starved CPU):
    // it wrote nothing either, so this round says nothing about its readers.
    const processStalled = now - lastSweep > sweepMs * 2;
    lastSweep = now;
    for (const socket of sockets) socket.closeIfStalled(settings.stallTimeoutMs, processStalled);
  }, sweepMs);
  stallSweep.unref();

  fastify.addHook('preClose', (done) => {
    clearInterval(heartbeat);
    clearInterval(stallSweep);
    stopStatus();
    // Changes waiting for their window leave now, then the close frames behind them.
    coalescer.flush();
    closeSockets();
    done();
  });
  fastify.addHook('onClose', async () => {
    // Flush: saves that arrived over a socket before the shutdown still reach the store.
    await Promise.allSettled(inFlight);
    if (limits.owned) await limiter?.close();
  });

  // Encapsulated children: our error handler applies to our routes only, and the
  // WebSocket plugin's per-request hooks stay off the HTTP save path.
  await fastify.register(async (routes) => {
    if (apiHeaders) registerSecurityHeaders(routes);
    routes.setErrorHandler((error, request, reply) =>
      sendApiError(reply, request, error, service.maxStateBytes),
    );
    if (metrics.enabled) routes.addHook('onResponse', requestMetricsHook(metrics));
    registerStateRoutes(routes, { service, verifier, limiter, bodyLimit });
  });
  await fastify.register(async (subscribe) => {
    const parseJson = appJsonTextParser(subscribe);
    if (apiHeaders) registerSecurityHeaders(subscribe);
    if (!subscribe.hasDecorator('websocketServer')) {
      await subscribe.register(websocket, {
        options: { maxPayload: bodyLimit },
        preClose(done) {
          closeSockets();
          this.websocketServer.close();
          done();
        },
      });
    }
    // Upgrades count against the client IP's limit (a refused one is answered 429).
    subscribe.addHook('onRequest', (request, _reply, done) => {
      try {
        const spent = limiter?.ip(request.ip);
        if (spent instanceof Promise) spent.then(() => done(), done);
        else done();
      } catch (error) {
        done(error as Error);
      }
    });
    subscribe.setErrorHandler((error, request, reply) =>
      sendApiError(reply, request, error, service.maxStateBytes),
    );
    subscribe.get(SUBSCRIBE_PATH, { websocket: true }, (socket, request) => {
      // Also when the host registered the WebSocket plugin with a larger (or no) limit.
      if (!limitMessageSize(socket, bodyLimit)) {
        request.log.warn('cannot cap this WebSocket message size; the server maxPayload applies');
      }
      const session = new StateSocket(socket, {
        service,
        verifier,
        limiter,
        ip: request.ip,
        logger: request.log,
        authTimeoutMs: settings.authTimeoutMs,
        patches: wantsPatches(request.query),
        coalescer,
        metrics,
        storeStatus: () => service.storeStatus(),
        parseJson,
        track(operation) {
          inFlight.add(operation);
          void operation.finally(() => inFlight.delete(operation));
        },
        onClosed(closed) {
          if (sockets.delete(closed)) metrics.socketClosed();
        },
        ...(settings.onSocketClose ? { onCloseSent: settings.onSocketClose } : {}),
      });
      sockets.add(session);
      metrics.socketOpened();
      session.start(request.headers.authorization);
    });
  });
}

export const dashboardStatePlugin = fp(dashboardState, {
  fastify: '5.x',
  name: '@hyvve/dashboard-state',
});
