// Starting the servers under test as their own processes, pinned to the server CPU.
import type { BenchChild } from '../lib/bench-child.js';
import type { BenchContext } from './context.js';

export type ServerKind =
  | 'ours'
  | 'ours-default'
  | 'ours-no-metrics'
  | 'redis-floor'
  | 'framework-floor'
  | 'socketio';

const scripts: Record<ServerKind, string> = {
  ours: 'servers/ours-server.ts',
  'ours-default': 'servers/ours-server.ts',
  'ours-no-metrics': 'servers/ours-server.ts',
  'redis-floor': 'servers/redis-floor-server.ts',
  'framework-floor': 'servers/framework-floor-server.ts',
  socketio: 'servers/socketio-server.ts',
};

/** Which Redis a server uses: one redis-server by URL, or a Redis Cluster (ours only). */
export type ServerRedis =
  | { url: string }
  | {
      /** `host:port,...` as in REDIS_CLUSTER_NODES. */
      clusterNodes: string;
      pubsub: 'sharded' | 'classic';
    };

export class UnsupportedServerRedisError extends Error {
  constructor(kind: ServerKind) {
    super(
      `${kind} cannot run on a Redis Cluster in the bench (only ours reads the cluster settings)`,
    );
    this.name = 'UnsupportedServerRedisError';
  }
}

export interface ServerStartOptions {
  /** Distinguishes instances of one kind (e.g. `a`, `b`): the process is `<kind>-<instance>`. */
  instance?: string;
  /** The process's name instead of `<kind>-<instance>` (logs, profile folders). */
  name?: string;
  /** @default the orchestrator's redis-server */
  redis?: ServerRedis;
  /** Extra Node flags (e.g. --expose-gc for memory readings). */
  nodeArgs?: string[];
  openFiles?: number;
  /** Extra environment (e.g. `WS_COALESCE_MS` for a variant of ours as a system of a run). */
  env?: Record<string, string>;
}

function redisEnv(kind: ServerKind, redis: ServerRedis): Record<string, string> {
  if ('url' in redis) return { BENCH_REDIS_URL: redis.url };
  if (kind !== 'ours' && kind !== 'ours-no-metrics' && kind !== 'ours-default')
    throw new UnsupportedServerRedisError(kind);
  return { BENCH_REDIS_CLUSTER_NODES: redis.clusterNodes, BENCH_REDIS_PUBSUB: redis.pubsub };
}

export async function startServer(
  context: BenchContext,
  kind: ServerKind,
  options: ServerStartOptions = {},
): Promise<BenchChild & { url: string }> {
  const name = options.name ?? (options.instance ? `${kind}-${options.instance}` : kind);
  const child = await context.startChild({
    name,
    script: scripts[kind],
    cpu: context.cpu.server,
    nodeArgs: options.nodeArgs ?? [],
    env: {
      NODE_ENV: 'production',
      ...redisEnv(kind, options.redis ?? { url: context.redis.url }),
      BENCH_AUTH_SECRET: context.authSecret,
      BENCH_INSTANCE_ID: name,
      BENCH_METRICS: kind === 'ours-no-metrics' ? 'off' : 'on',
      // `ours-default` (and the metrics-cost baseline): the default limits, as `npm start`
      // runs them. `ours`: limits off, for the fan-out loads, whose hot user saves as fast
      // as it can (far past any per-user limit, by design).
      BENCH_RATE_LIMIT: kind === 'ours-default' || kind === 'ours-no-metrics' ? 'default' : 'off',
      ...options.env,
    },
    ...(options.openFiles === undefined ? {} : { openFiles: options.openFiles }),
  });
  if (child.port === undefined) throw new Error(`${name} reported no port`);
  return Object.assign(child, { url: `http://127.0.0.1:${child.port}` });
}
