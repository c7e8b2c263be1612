// The state API as a Fastify plugin, so any Fastify server can mount it:
//   app.register(dashboardStatePlugin, { service, authSecret })
// It serves the HTTP routes and the subscribe WebSocket, decorates `dashboardState`
// with the service, and on close says 1001 to its sockets and waits for their saves.
// It never closes the service: whoever created it does.
import websocket from '@fastify/websocket';
import { CloseCode, SUBSCRIBE_PATH } from '@hyvve/schema';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenPolicy } from '../auth/token.js';
import { tokenKeys } from '../auth/token-keys.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import {
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_COALESCE_WINDOW_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  type RateLimitOptions,
} from '../options.js';
import { createRequestLimiter, type RequestLimiter } from '../rate-limit/request-limiter.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';
import { WriteCoalescer } from '../socket/fan-out/write-coalescer.js';
import { limitMessageSize } from '../socket/frame-limit.js';
import { StateSocket } from '../socket/state-socket.js';
import { sendApiError } from './error-handler.js';
import { appJsonTextParser } from './json-text.js';
import { requestMetricsHook } from './request-metrics.js';
import { registerStateRoutes } from './state-routes.js';

export interface DashboardStatePluginOptions {
  service: StatePersistenceService;
  /** HS256 secret the bearer tokens are signed with. */
  authSecret: string;
  /** An identity provider's public key (PEM) whose RS256/ES256/EdDSA tokens are accepted too. */
  authPublicKey?: string;
  /** An identity provider's JWKS address whose RS256/ES256/EdDSA tokens are accepted too. */
  authJwksUrl?: string;
  /** Lifetime, issuer and audience a token must meet. @default lifetime at most 24 h */
  tokenPolicy?: TokenPolicy;
  /**
   * Per-user and per-IP limits of every request and socket message, in this process;
   * false disables them. @default 20/s burst 40 per user, 100/s burst 200 per IP
   */
  rateLimit?: RateLimitOptions | false;
  /** Limits kept elsewhere (Redis, shared by instances); replaces `rateLimit` when given. */
  requestLimiter?: RequestLimiter;
  /** Time for a WebSocket's first `auth` message (without an Authorization header). @default 5000 */
  authTimeoutMs?: number;
  /** WebSocket ping interval; a socket that misses one pong is dropped. @default 30000 */
  heartbeatIntervalMs?: number;
  /**
   * A WebSocket whose reader drained nothing of its output for this long is closed with
   * 4408 ("stalled"); a slow reader that still drains is never cut (it gets fewer, newer
   * changes instead). @default 30000
   */
  stallTimeoutMs?: number;
  /**
   * A socket's changes wait at least this many ms after its last write and leave
   * together in one write, the newest replacing older ones (fewer system calls per
   * delivered change). 0: a change is written at the end of its turn, unless the socket's
   * previous write or the batch it was written in is still under way. @default 0
   */
  coalesceWindowMs?: number;
  /** Where the API's metrics are counted (serve them with `metrics.text()`). @default a new ServerMetrics */
  metrics?: ServerMetrics;
  /** Called when the server closes a WebSocket with a code (1001, 1013, 4401, 4408), e.g. for metrics. */
  onSocketClose?: (code: number, reason: string) => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The persistence service behind the dashboard state API. */
    dashboardState: StatePersistenceService;
    /** The Prometheus metrics of the dashboard state API. */
    dashboardStateMetrics: ServerMetrics;
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
  const { service } = options;
  const metrics = options.metrics ?? new ServerMetrics();
  const settings = {
    authTimeoutMs: DEFAULT_AUTH_TIMEOUT_MS,
    heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
    stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
    coalesceWindowMs: DEFAULT_COALESCE_WINDOW_MS,
    ...options,
  };
  if (!Number.isFinite(settings.stallTimeoutMs) || settings.stallTimeoutMs <= 0) {
    throw new RangeError(
      `stallTimeoutMs must be a positive number (got ${settings.stallTimeoutMs})`,
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
  const limiter = options.requestLimiter ?? createRequestLimiter(options.rateLimit);
  const bodyLimit = service.maxStateBytes + BODY_LIMIT_MARGIN_BYTES;
  const sockets = new Set<StateSocket>();
  const inFlight = new Set<Promise<void>>();

  const closeSockets = (): void => {
    for (const socket of sockets) socket.close(CloseCode.goingAway, 'server shutting down');
  };
  fastify.decorate('dashboardState', service);
  fastify.decorate('dashboardStateMetrics', metrics);

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
  });

  // Encapsulated children: our error handler applies to our routes only, and the
  // WebSocket plugin's per-request hooks stay off the HTTP save path.
  await fastify.register(async (routes) => {
    routes.setErrorHandler((error, request, reply) =>
      sendApiError(reply, request, error, service.maxStateBytes),
    );
    if (metrics.enabled) routes.addHook('onResponse', requestMetricsHook(metrics));
    registerStateRoutes(routes, { service, verifier, limiter, bodyLimit });
  });
  await fastify.register(async (subscribe) => {
    const parseJson = appJsonTextParser(subscribe);
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
