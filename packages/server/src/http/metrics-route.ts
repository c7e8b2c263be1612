// GET /metrics in the Prometheus text format. With a token, only a scraper that sends
// `Authorization: Bearer <token>` gets them (the token is compared in constant time).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../metrics/server-metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsRouteOptions {
  /** Bearer token a scraper must send; absent = open (bind the port privately). */
  token?: string | undefined;
}

/** Same-length digests, so comparing them leaks neither content nor length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function registerMetricsRoute(
  app: FastifyInstance,
  metrics: ServerMetrics,
  options: MetricsRouteOptions = {},
): void {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  app.get(METRICS_PATH, async (request, reply) => {
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({
        error: 'unauthorized',
        message: 'metrics need Authorization: Bearer <METRICS_TOKEN>',
      });
    }
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
}
