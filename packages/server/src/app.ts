// The Fastify application: the state API plugin, health probes, the optional dev
// sign-in and, when built, the web app at `/`. Not listening yet: startServer does that.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { closeConnectionsOnShutdown } from './http/close-connections.js';
import { registerDevTokenRoute } from './http/dev-token-route.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerMetricsRoute } from './http/metrics-route.js';
import { type DashboardStatePluginOptions, dashboardStatePlugin } from './http/plugin.js';
import { registerStaticPage } from './http/static-page.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import type { RequestLimiter } from './rate-limit/request-limiter.js';
import type { StatePersistenceService } from './service/state-persistence-service.js';

export interface AppOptions extends Omit<DashboardStatePluginOptions, 'service' | 'authSecret'> {
  service: StatePersistenceService;
  /** HS256 secret of the bearer tokens. */
  authSecret: string;
  /** Registers POST /api/dev/token (tokens for anyone: demos and development only). @default false */
  devAuth?: boolean;
  /**
   * Folder of a built web app to serve at `/` (with index.html as the SPA fallback); needs
   * the optional package `@fastify/static` (an OptionError naming it when it is missing).
   */
  staticDir?: string;
  /** Proxies whose X-Forwarded-For names the client, for the per-IP limit. @default false */
  trustProxy?: boolean | string;
  /** The pino logger Fastify logs through (request ids, structured context). */
  logger: FastifyBaseLogger;
  /** Serves GET /metrics (false when they are served on another port). @default true */
  serveMetrics?: boolean;
  /** Bearer token GET /metrics requires; absent = open. */
  metricsToken?: string;
}

const VERBOSE_LEVELS = new Set(['debug', 'trace']);

export function buildApp(options: AppOptions): FastifyInstance {
  const {
    service,
    authSecret,
    devAuth = false,
    staticDir,
    logger,
    serveMetrics = true,
    metricsToken,
    trustProxy,
    ...pluginOptions
  } = options;
  const metrics = pluginOptions.metrics ?? new ServerMetrics();
  const verbose = VERBOSE_LEVELS.has(logger.level);
  const app = Fastify({
    loggerInstance: logger,
    // A pino child per request (for its reqId) costs on every save; our error logs carry
    // the reqId themselves, and at debug level every request gets its child again.
    childLoggerFactory: (parent, bindings, childOptions) =>
      verbose ? parent.child(bindings, childOptions) : parent,
    // A line per request costs throughput on the save path; it is there at debug level.
    logController: new LogController({ disableRequestLogging: !verbose }),
    return503OnClosing: true,
    ...(trustProxy === undefined ? {} : { trustProxy }),
  });
  closeConnectionsOnShutdown(app);
  // The plugin decides the headers (here on every answer: page, probes, 404s too), the
  // limits and the store's warnings, for this app as for any host.
  app.register(dashboardStatePlugin, {
    service,
    authSecret,
    ...pluginOptions,
    metrics,
    securityHeaders: pluginOptions.securityHeaders ?? 'app',
  });
  registerHealthRoutes(app, service);
  if (serveMetrics && metrics.enabled) registerMetricsRoute(app, metrics, { token: metricsToken });
  // The plugin's limiter, so the dev sign-in is no way around the state API's limits.
  if (devAuth) registerDevTokenRoute(app, authSecret, pluginLimiter(app));
  if (staticDir !== undefined) registerStaticPage(app, staticDir);
  app.setNotFoundHandler((request, reply) => {
    const wantsPage =
      staticDir !== undefined &&
      request.method === 'GET' &&
      !request.url.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.sendFile('index.html');
    return reply
      .code(404)
      .send({ error: 'not_found', message: `no route for ${request.method} ${request.url}` });
  });
  return app;
}

/** Spends from the plugin's limiter, which exists once the plugin is loaded. */
function pluginLimiter(app: FastifyInstance): RequestLimiter {
  return {
    ip: (address) => app.dashboardStateLimiter?.ip(address),
    get user() {
      return app.dashboardStateLimiter?.user;
    },
    close: async () => {},
  };
}
