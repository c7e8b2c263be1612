// 2. Fan-out: two instances on one Redis, subscribers spread over both, a writer saving
// 10 KB states as fast as it can for a bounded time. Ours against Socket.IO 4 with the
// Redis adapter, same subscribers, same payloads, same writer, in the same run.
import { availableParallelism } from 'node:os';
import type { BenchChild } from '../lib/bench-child.js';
import { readRssBytes, startCpuAccount } from '../lib/proc-status.js';
import type { Figure } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { signTokenPool } from '../lib/tokens.js';
import type { SubscriberProtocol } from '../load/subscriber-connection.js';
import type {
  ConnectResult,
  SubscriberSpec,
  SubscribersCommand,
  WindowResult,
} from '../load/subscribers-job.js';
import type { WriterConfig, WriterResult } from '../load/writer-job.js';
import type { BenchContext, Benchmark } from './context.js';
import { type ServerKind, startServer } from './servers.js';

const STATE_BYTES = 10 * 1024;
/** A server past this much memory is queueing without bound: stop the writer. */
const RSS_LIMIT_BYTES = 3 * 1024 ** 3;

export interface FanOutShape {
  subscribers: number;
  /** Users 1..coldUsers each have 2 subscribers (one per instance); user 0 has the rest. */
  coldUsers: number;
}

/**
 * Half the subscribers watch one user (a dashboard open on many screens), the other
 * half are 2 per user (two tabs each), always spread over both instances.
 */
export function subscriberSpecs(shape: FanOutShape, tokens: string[]): SubscriberSpec[] {
  const specs: SubscriberSpec[] = [];
  const hot = shape.subscribers - shape.coldUsers * 2;
  const token = (user: number): string => {
    const value = tokens[user];
    if (value === undefined) throw new RangeError(`no token for user ${user}`);
    return value;
  };
  for (let i = 0; i < hot; i++) specs.push({ instance: i % 2, token: token(0) });
  for (let user = 1; user <= shape.coldUsers; user++) {
    specs.push({ instance: 0, token: token(user) }, { instance: 1, token: token(user) });
  }
  return specs;
}

/**
 * `ours`: our server with subscribers that ask for patches, as our browser client does;
 * `ours-full`: the same server sending every subscriber the whole state (shown for scale).
 */
type FanOutSystem = 'ours' | 'ours-full' | 'socketio';

const PROTOCOL: Record<FanOutSystem, SubscriberProtocol> = {
  ours: 'hyvve-patches',
  'ours-full': 'hyvve',
  socketio: 'socketio',
};
const SERVER: Record<FanOutSystem, ServerKind> = {
  ours: 'ours',
  'ours-full': 'ours',
  socketio: 'socketio',
};

interface SystemResult {
  system: FanOutSystem;
  connect: ConnectResult;
  writer: WriterResult;
  window: WindowResult;
  deliveredPerSec: number;
  serverCpuSeconds: number[];
  /** Wall time over which serverCpuSeconds was measured. */
  serverCpuWindowS: number;
  /** Share of the machine's CPUs used by processes outside the bench meanwhile. */
  othersCpuShare: number;
  maxServerRssBytes: number;
  aborted?: string;
}

async function watchServers(
  servers: BenchChild[],
  onLimit: (reason: string) => void,
): Promise<{ stop: () => Promise<number> }> {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const server of servers) {
        const rss = await readRssBytes(server.pid).catch(() => 0);
        max = Math.max(max, rss);
        if (rss > RSS_LIMIT_BYTES) {
          onLimit(`${server.name} reached ${Math.round(rss / 1024 ** 2)} MB RSS`);
          running = false;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}

async function runSystem(
  context: BenchContext,
  system: FanOutSystem,
  specs: SubscriberSpec[],
  writerConfig: Omit<WriterConfig, 'urls'>,
): Promise<SystemResult> {
  await context.flushRedis();
  const servers = [
    await startServer(context, SERVER[system], { instance: 'a', openFiles: 20_000 }),
    await startServer(context, SERVER[system], { instance: 'b', openFiles: 20_000 }),
  ];
  const stopAll: BenchChild[] = [...servers];
  try {
    const urls = servers.map((server) => server.url);
    const subscribers = await context.startChild({
      name: `subscribers-${system}`,
      script: 'load/subscribers-job.ts',
      cpu: context.cpu.load,
      openFiles: 20_000,
    });
    stopAll.push(subscribers);
    const command = (c: SubscribersCommand, timeoutMs: number) => subscribers.run(c, timeoutMs);
    const connect = (await command(
      {
        command: 'connect',
        protocol: PROTOCOL[system],
        urls,
        subscribers: specs,
        concurrency: 50,
      },
      120_000,
    )) as ConnectResult;
    context.log(`fan-out: ${system}: ${connect.connected} subscribers in ${connect.durationMs} ms`);

    const writer = await context.startChild({
      name: `writer-${system}`,
      script: 'load/writer-job.ts',
      cpu: context.cpu.load,
    });
    stopAll.push(writer);
    let aborted: string | undefined;
    const watch = await watchServers(servers, (reason) => {
      aborted = reason;
      void writer.stop();
    });
    const account = await startCpuAccount([
      ...servers.map((s) => s.pid),
      subscribers.pid,
      writer.pid,
      context.redisPid,
    ]);
    await command({ command: 'begin' }, 10_000);
    let writerResult: WriterResult;
    try {
      writerResult = await writer.run<WriterResult>(
        { ...writerConfig, urls } satisfies WriterConfig,
        writerConfig.durationMs + 30_000,
      );
    } catch (error) {
      if (aborted === undefined) throw error;
      writerResult = {
        saves: 0,
        hotSaves: 0,
        coldSaves: 0,
        non2xx: {},
        errors: 0,
        durationMs: 0,
        cpuSeconds: 0,
        lastSaved: {},
      };
    }
    const window = (await command(
      { command: 'end', quietMs: 1000, maxWaitMs: 20_000 },
      60_000,
    )) as WindowResult;
    const cpu = await account();
    const maxServerRssBytes = await watch.stop();
    await command({ command: 'close' }, 30_000);
    const result: SystemResult = {
      system,
      connect,
      writer: writerResult,
      window,
      deliveredPerSec: window.activeMs > 0 ? window.messages / (window.activeMs / 1000) : 0,
      serverCpuSeconds: servers.map((s) => cpu.byPid[s.pid] ?? Number.NaN),
      serverCpuWindowS: cpu.wallS,
      othersCpuShare: cpu.othersS / (cpu.wallS * availableParallelism()),
      maxServerRssBytes,
    };
    if (aborted !== undefined) result.aborted = aborted;
    return result;
  } finally {
    for (const child of stopAll.reverse()) await child.stop();
  }
}

interface SystemSummary {
  /** Medians over the rounds that ran. */
  deliveredPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  savesPerSec: number | null;
  /** Both servers' CPU over the window, as a fraction of the one core they share. */
  serverCpu: number | null;
  /** The subscriber process's CPU over the window, as a fraction of a core. */
  subscriberCpu: number | null;
  othersCpuShare: number | null;
  invalid?: string;
}

const percent = (fraction: number | null): string =>
  fraction === null ? 'n/a' : `${Math.round(fraction * 100)}%`;

/**
 * Medians over rounds: a burst of load from others on this shared machine moves one
 * round, not the figure. A single round with errors invalidates the system's figures.
 */
function summarizeSystem(
  rounds: SystemResult[],
  error: string | undefined,
  specs: readonly SubscriberSpec[],
): SystemSummary {
  const reasons = rounds.flatMap((r) => {
    const reason = invalidReason(r, specs);
    return reason ? [reason] : [];
  });
  if (error !== undefined) reasons.push(error.split('\n')[0] ?? error);
  if (rounds.length === 0 && error === undefined) reasons.push('did not run');
  const med = (pick: (r: SystemResult) => number): number | null =>
    rounds.length === 0 ? null : median(rounds.map(pick));
  const windowS = (r: SystemResult): number => Math.max(r.window.activeMs, 1) / 1000;
  return {
    deliveredPerSec: med((r) => r.deliveredPerSec),
    p50Ms: med((r) => r.window.latencyMs.p50),
    p99Ms: med((r) => r.window.latencyMs.p99),
    savesPerSec: med((r) => r.writer.saves / (Math.max(r.writer.durationMs, 1) / 1000)),
    serverCpu: med((r) => r.serverCpuSeconds.reduce((a, b) => a + b, 0) / r.serverCpuWindowS),
    subscriberCpu: med((r) => r.window.cpuSeconds / windowS(r)),
    othersCpuShare: med((r) => r.othersCpuShare),
    ...(reasons.length > 0 ? { invalid: reasons.join('; ') } : {}),
  };
}

/**
 * Subscribers that did not end at their user's newest saved state. Conflation may skip
 * intermediate states for a slow reader, never the last one.
 */
export function subscribersBehind(
  specs: readonly SubscriberSpec[],
  lastSaved: Readonly<Record<string, number>>,
  newestReceived: readonly number[],
): number {
  let behind = 0;
  specs.forEach((spec, index) => {
    const last = lastSaved[spec.token];
    if (last !== undefined && (newestReceived[index] ?? 0) < last) behind++;
  });
  return behind;
}

function invalidReason(result: SystemResult, specs: readonly SubscriberSpec[]): string | undefined {
  const expectedSubscribers = specs.length;
  const reasons: string[] = [];
  if (result.aborted) reasons.push(`aborted: ${result.aborted}`);
  if (result.connect.connected !== expectedSubscribers) {
    reasons.push(`${result.connect.connected}/${expectedSubscribers} subscribers connected`);
  }
  const non2xx = Object.values(result.writer.non2xx).reduce((a, b) => a + b, 0);
  if (non2xx > 0) reasons.push(`${non2xx} non-2xx saves ${JSON.stringify(result.writer.non2xx)}`);
  if (result.writer.errors > 0)
    reasons.push(`${result.writer.errors} save errors (${result.writer.firstError})`);
  if (result.window.unreadable > 0) reasons.push(`${result.window.unreadable} unreadable messages`);
  if (result.window.closed > 0) reasons.push(`${result.window.closed} subscribers closed`);
  if (result.window.messages === 0) reasons.push('no message delivered');
  const behind = subscribersBehind(specs, result.writer.lastSaved, result.window.newestReceived);
  if (behind > 0) reasons.push(`${behind} subscribers did not end at the newest state`);
  return reasons.length === 0 ? undefined : reasons.join(', ');
}

/** Writer time of the unmeasured pass each system gets before the measured rounds. */
const PRIMING_MS = 3000;

export const fanOut: Benchmark = async (context) => {
  const shape: FanOutShape = context.quick
    ? { subscribers: 200, coldUsers: 50 }
    : { subscribers: 1000, coldUsers: 250 };
  const tokens = await signTokenPool(context.authSecret, shape.coldUsers + 1);
  const specs = subscriberSpecs(shape, tokens);
  const [hotToken, ...coldTokens] = tokens;
  if (hotToken === undefined) throw new Error('no hot token');
  const writerConfig: Omit<WriterConfig, 'urls'> = {
    hotToken,
    coldTokens,
    concurrency: 4,
    durationMs: context.quick ? 3000 : 10_000,
    maxSaves: context.quick ? 20_000 : 100_000,
    stateBytes: STATE_BYTES,
  };
  const results: Record<FanOutSystem, SystemResult[]> = {
    ours: [],
    'ours-full': [],
    socketio: [],
  };
  const errors: Partial<Record<FanOutSystem, string>> = {};
  // One short unmeasured pass of each system first, as in http-save: the first measured
  // round of a run was the slowest (ours, going first, 38.8 k messages/s against 69-73 k
  // in its later rounds). Skipped in quick runs.
  if (!context.quick) {
    for (const system of ['ours', 'ours-full', 'socketio'] as const) {
      context.log(`fan-out: priming, ${system} (not measured)`);
      await runSystem(context, system, specs, { ...writerConfig, durationMs: PRIMING_MS }).catch(
        (error: unknown) => context.log(`fan-out: priming ${system} failed: ${String(error)}`),
      );
    }
  }
  for (let round = 1; round <= context.rounds; round++) {
    for (const system of ['ours', 'ours-full', 'socketio'] as const) {
      context.log(`fan-out: round ${round}, ${system}`);
      try {
        results[system].push(await runSystem(context, system, specs, writerConfig));
      } catch (error) {
        // One system failing must not hide the other's figures.
        context.log(`fan-out: ${system} failed: ${error instanceof Error ? error.message : error}`);
        errors[system] = String(error);
      }
    }
  }
  const ours = summarizeSystem(results.ours, errors.ours, specs);
  const oursFull = summarizeSystem(results['ours-full'], errors['ours-full'], specs);
  const socketio = summarizeSystem(results.socketio, errors.socketio, specs);
  const invalid = [
    ours.invalid && `ours: ${ours.invalid}`,
    socketio.invalid && `Socket.IO: ${socketio.invalid}`,
  ]
    .filter(Boolean)
    .join('; ');
  const common = {
    benchmark: 'fan-out' as const,
    baselineLabel: 'Socket.IO + redis-adapter',
    ...(invalid ? { invalid } : {}),
  };
  const figures: Figure[] = [
    {
      ...common,
      label: `Fan-out delivered messages (${specs.length} subscribers, 2 instances)`,
      unit: 'msg/s',
      ours: ours.deliveredPerSec,
      baseline: socketio.deliveredPerSec,
      target: { kind: 'ratio-at-least', value: 2 },
      note: `median of ${context.rounds} round(s); CPU busy: servers (2 on one core) ours ${percent(ours.serverCpu)}, Socket.IO ${percent(socketio.serverCpu)}; subscriber process ours ${percent(ours.subscriberCpu)}, Socket.IO ${percent(socketio.subscriberCpu)}; other processes on the machine used ${percent(ours.othersCpuShare)} / ${percent(socketio.othersCpuShare)} of its CPUs`,
    },
    {
      ...common,
      label: 'Fan-out save→receive p99',
      unit: 'ms',
      ours: ours.p99Ms,
      baseline: socketio.p99Ms,
      target: { kind: 'ratio-at-most', value: 1 },
    },
    {
      ...common,
      label: 'Fan-out save→receive p50',
      unit: 'ms',
      ours: ours.p50Ms,
      baseline: socketio.p50Ms,
      target: { kind: 'ratio-at-most', value: 1 },
    },
    {
      ...common,
      ...(oursFull.invalid ? { invalid: `ours, whole states: ${oursFull.invalid}` } : {}),
      label: 'Fan-out delivered messages, ours sending whole states (no patches)',
      unit: 'msg/s',
      ours: oursFull.deliveredPerSec,
      baseline: socketio.deliveredPerSec,
      target: { kind: 'info' },
      note: `subscribers that do not ask for patches get every change as the whole state, as Socket.IO's do; CPU busy: servers ${percent(oursFull.serverCpu)}, subscriber process ${percent(oursFull.subscriberCpu)}`,
    },
    {
      ...common,
      ...(oursFull.invalid ? { invalid: `ours, whole states: ${oursFull.invalid}` } : {}),
      label: 'Fan-out save→receive p99, ours sending whole states',
      unit: 'ms',
      ours: oursFull.p99Ms,
      baseline: socketio.p99Ms,
      target: { kind: 'ratio-at-most', value: 1 },
      note: "every subscriber must end at its user's newest state (checked per subscriber; a run where one does not is invalid); latest-wins delivery may skip intermediate states for a slow reader, so compare the delivered messages row beside it",
    },
    {
      ...common,
      label: 'Fan-out saves accepted',
      unit: 'saves/s',
      ours: ours.savesPerSec,
      baseline: socketio.savesPerSec,
      target: { kind: 'ratio-at-least', value: 2 },
    },
  ];
  return {
    figures,
    details: {
      shape,
      writer: { ...writerConfig, hotToken: undefined, coldTokens: coldTokens.length },
      results,
      errors,
      medians: { ours, oursFull, socketio },
    },
  };
};
