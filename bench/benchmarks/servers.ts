// Starting the servers under test as their own processes, pinned to the server CPU.
import type { BenchChild } from '../lib/bench-child.js';
import type { BenchContext } from './context.js';

export type ServerKind =
  | 'ours'
  | 'ours-no-metrics'
  | 'redis-floor'
  | 'framework-floor'
  | 'socketio';

const scripts: Record<ServerKind, string> = {
  ours: 'servers/ours-server.ts',
  'ours-no-metrics': 'servers/ours-server.ts',
  'redis-floor': 'servers/redis-floor-server.ts',
  'framework-floor': 'servers/framework-floor-server.ts',
  socketio: 'servers/socketio-server.ts',
};

export interface ServerStartOptions {
  /** Distinguishes instances of one kind (e.g. `a`, `b`). */
  instance?: string;
  /** Extra Node flags (e.g. --expose-gc for memory readings). */
  nodeArgs?: string[];
  openFiles?: number;
}

export async function startServer(
  context: BenchContext,
  kind: ServerKind,
  options: ServerStartOptions = {},
): Promise<BenchChild & { url: string }> {
  const name = options.instance ? `${kind}-${options.instance}` : kind;
  const child = await context.startChild({
    name,
    script: scripts[kind],
    cpu: context.cpu.server,
    nodeArgs: options.nodeArgs ?? [],
    env: {
      NODE_ENV: 'production',
      BENCH_REDIS_URL: context.redis.url,
      BENCH_AUTH_SECRET: context.authSecret,
      BENCH_INSTANCE_ID: name,
      BENCH_METRICS: kind === 'ours-no-metrics' ? 'off' : 'on',
    },
    ...(options.openFiles === undefined ? {} : { openFiles: options.openFiles }),
  });
  if (child.port === undefined) throw new Error(`${name} reported no port`);
  return Object.assign(child, { url: `http://127.0.0.1:${child.port}` });
}
