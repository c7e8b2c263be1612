// Counts the state routes' answers in the metrics: one onResponse hook for all of them,
// so the handlers stay free of bookkeeping. Saves are POST, PUT and PATCH; loads GET.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ServerMetrics } from '../metrics/server-metrics.js';

export function requestMetricsHook(
  metrics: ServerMetrics,
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  return (request, reply, done) => {
    const status = reply.statusCode;
    switch (request.method) {
      case 'POST':
      case 'PUT':
      case 'PATCH':
        metrics.saveFinished('http', status, reply.elapsedTime);
        break;
      case 'GET':
        metrics.loadFinished(status, reply.elapsedTime);
        break;
      case 'DELETE':
        metrics.deleteFinished('http', status);
        break;
    }
    done();
  };
}
