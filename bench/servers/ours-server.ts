// Our server, from its build (packages/server/dist, resolved through the package's
// default export condition at run time), in its own process as in production. The
// launcher only exists to turn off the per-user rate limit (the bench saves far faster
// than a person), to turn the metrics off for the metrics-cost baseline, and to answer
// the orchestrator's memory/shutdown requests.
import { startServer } from '@hyvve/server';
import { runServerChild } from '../lib/child-side.js';
import { requireEnv } from './env.js';

await runServerChild(async () => {
  const server = await startServer({
    port: 0,
    redisUrl: requireEnv('BENCH_REDIS_URL'),
    authSecret: requireEnv('BENCH_AUTH_SECRET'),
    rateLimit: false,
    logLevel: 'silent',
    instanceId: requireEnv('BENCH_INSTANCE_ID'),
    // `ours-no-metrics` (the metrics-cost benchmark's baseline) counts nothing.
    metrics: process.env.BENCH_METRICS !== 'off',
  });
  return { port: server.port, close: () => server.close() };
});
