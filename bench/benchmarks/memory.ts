// 5. Memory: the server's RSS growth per idle authenticated WebSocket subscriber, at
// 5,000 subscribers (one user each), read from /proc after a full GC in the server
// process (started with --expose-gc). Socket.IO holding the same subscribers is reported
// alongside for scale.

import type { BenchChild } from '../lib/bench-child.js';
import type { MemoryReport } from '../lib/ipc.js';
import { readRssBytes } from '../lib/proc-status.js';
import type { Figure } from '../lib/results.js';
import { signTokenPool } from '../lib/tokens.js';
import type { ConnectResult, SubscriberSpec, SubscribersCommand } from '../load/subscribers-job.js';
import type { BenchContext, Benchmark } from './context.js';
import { startServer } from './servers.js';

const TARGET_BYTES_PER_SUBSCRIBER = 16 * 1024;
const WARMUP_SUBSCRIBERS = 200;
const SETTLE_MS = 1500;

interface Reading {
  procRssBytes: number;
  report: MemoryReport;
}

interface SystemMemory {
  system: 'ours' | 'socketio';
  subscribers: number;
  connectMs: number;
  before: Reading;
  after: Reading;
  rssPerSubscriberBytes: number;
  heapPerSubscriberBytes: number;
}

async function read(server: BenchChild): Promise<Reading> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  // The GC runs inside `memory()`; /proc is read right after it.
  const report = await server.memory();
  return { procRssBytes: await readRssBytes(server.pid), report };
}

async function measure(
  context: BenchContext,
  system: 'ours' | 'socketio',
  tokens: string[],
): Promise<SystemMemory> {
  await context.flushRedis();
  const server = await startServer(context, system, {
    nodeArgs: ['--expose-gc'],
    openFiles: tokens.length * 2 + 1000,
  });
  const subscribers = await context.startChild({
    name: `idle-subscribers-${system}`,
    script: 'load/subscribers-job.ts',
    cpu: context.cpu.load,
    openFiles: tokens.length * 2 + 1000,
  });
  const command = (c: SubscribersCommand): Promise<unknown> => subscribers.run(c, 180_000);
  const connect = (specs: SubscriberSpec[]) =>
    command({
      command: 'connect',
      protocol: system === 'ours' ? 'hyvve' : 'socketio',
      urls: [server.url],
      subscribers: specs,
      concurrency: 50,
    }) as Promise<ConnectResult>;
  try {
    // Warm-up: the first connections compile code and grow pools once; that is not per-subscriber cost.
    await connect(tokens.slice(0, WARMUP_SUBSCRIBERS).map((token) => ({ instance: 0, token })));
    await command({ command: 'close' });
    const before = await read(server);
    const connected = await connect(tokens.map((token) => ({ instance: 0, token })));
    context.log(
      `memory: ${system}: ${connected.connected} subscribers in ${connected.durationMs} ms`,
    );
    const after = await read(server);
    await command({ command: 'close' });
    return {
      system,
      subscribers: connected.connected,
      connectMs: connected.durationMs,
      before,
      after,
      rssPerSubscriberBytes: (after.procRssBytes - before.procRssBytes) / connected.connected,
      heapPerSubscriberBytes:
        (after.report.heapUsedBytes - before.report.heapUsedBytes) / connected.connected,
    };
  } finally {
    await subscribers.stop();
    await server.stop();
  }
}

export const memory: Benchmark = async (context) => {
  const count = context.quick ? 1000 : 5000;
  const tokens = await signTokenPool(context.authSecret, count);
  const results: Partial<Record<'ours' | 'socketio', SystemMemory>> = {};
  const errors: Record<string, string> = {};
  for (const system of ['ours', 'socketio'] as const) {
    context.log(`memory: ${system}`);
    try {
      results[system] = await measure(context, system, tokens);
    } catch (error) {
      context.log(`memory: ${system} failed: ${error instanceof Error ? error.message : error}`);
      errors[system] = String(error);
    }
  }
  const ours = results.ours;
  const socketio = results.socketio;
  const invalid =
    ours === undefined
      ? (errors.ours?.split('\n')[0] ?? 'did not run')
      : ours.subscribers !== count
        ? `${ours.subscribers}/${count} subscribers connected`
        : undefined;
  const figures: Figure[] = [
    {
      benchmark: 'memory',
      label: `Server RSS per idle subscriber (${count.toLocaleString('en-US')})`,
      unit: 'KB',
      ours: ours ? ours.rssPerSubscriberBytes / 1024 : null,
      baseline: socketio ? socketio.rssPerSubscriberBytes / 1024 : null,
      baselineLabel: 'Socket.IO',
      target: { kind: 'at-most', value: TARGET_BYTES_PER_SUBSCRIBER / 1024 },
      ...(invalid ? { invalid } : {}),
    },
    {
      benchmark: 'memory',
      label: 'Server JS heap per idle subscriber',
      unit: 'KB',
      ours: ours ? ours.heapPerSubscriberBytes / 1024 : null,
      baseline: socketio ? socketio.heapPerSubscriberBytes / 1024 : null,
      baselineLabel: 'Socket.IO',
      target: { kind: 'info' },
    },
  ];
  return { figures, details: { subscribers: count, results, errors } };
};
