// Our server, from its build (packages/server/dist, resolved through the package's
// default export condition at run time), in its own process as in production, behind a
// trusted proxy (the HTTP load names each user's client address in X-Forwarded-For).
// The launcher only exists to pick the limits (BENCH_RATE_LIMIT: `default` as `npm start`
// runs them, for the save benchmarks; `off` for the fan-out loads, whose hot user saves
// as fast as it can), to turn the metrics off for the metrics-cost baseline, to point it
// at one Redis or a Redis Cluster, and to answer the orchestrator's memory/shutdown requests.
import { loadConfig, type ServerOptions, startServer } from '@hyvve/server';
import { runServerChild } from '../lib/child-side.js';
import { requireEnv } from './env.js';

/**
 * One redis-server (BENCH_REDIS_URL), or a cluster (BENCH_REDIS_CLUSTER_NODES and
 * BENCH_REDIS_PUBSUB), read by the server's own parser of REDIS_CLUSTER_NODES /
 * REDIS_PUBSUB, so the bench runs the server as those settings configure it.
 */
function redisOptions(): Pick<ServerOptions, 'redisUrl' | 'redisCluster'> {
  const clusterNodes = process.env.BENCH_REDIS_CLUSTER_NODES;
  if (clusterNodes === undefined || clusterNodes === '') {
    return { redisUrl: requireEnv('BENCH_REDIS_URL') };
  }
  const { redisCluster } = loadConfig({
    REDIS_CLUSTER_NODES: clusterNodes,
    REDIS_PUBSUB: requireEnv('BENCH_REDIS_PUBSUB'),
  });
  if (redisCluster === undefined) throw new Error('BENCH_REDIS_CLUSTER_NODES gave no cluster');
  return { redisCluster };
}

/** WS_COALESCE_MS from the bench's environment, for trying other windows (the default otherwise). */
function coalesceOption(): Pick<ServerOptions, 'coalesceWindowMs'> {
  const raw = process.env.WS_COALESCE_MS;
  if (raw === undefined || raw === '') return {};
  const { coalesceWindowMs } = loadConfig({ WS_COALESCE_MS: raw });
  return { coalesceWindowMs };
}

await runServerChild(async () => {
  const server = await startServer({
    port: 0,
    ...redisOptions(),
    authSecret: requireEnv('BENCH_AUTH_SECRET'),
    // `default`: no option, so the defaults apply exactly as `npm start` has them.
    ...(process.env.BENCH_RATE_LIMIT === 'default' ? {} : { rateLimit: false as const }),
    trustProxy: true,
    logLevel: 'silent',
    instanceId: requireEnv('BENCH_INSTANCE_ID'),
    // `ours-no-metrics` (the metrics-cost benchmark's baseline) counts nothing.
    metrics: process.env.BENCH_METRICS !== 'off',
    ...coalesceOption(),
  });
  return { port: server.port, close: () => server.close() };
});
