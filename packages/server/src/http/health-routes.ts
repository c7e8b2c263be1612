// Load balancer probes: /healthz says the process serves, /readyz that the store answers.
import type { FastifyInstance } from 'fastify';
import type { StatePersistenceService } from '../service/state-persistence-service.js';

export function registerHealthRoutes(app: FastifyInstance, service: StatePersistenceService): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await service.ready();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', store: service.storeKind });
  });
}
