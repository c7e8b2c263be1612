// The fan-out load and its measured rounds, shared by `fan-out` (ours vs Socket.IO on one
// Redis) and `cluster-fan-out` (ours on one Redis vs a Redis Cluster): two server
// instances, subscribers spread over both, a writer saving 10 KB states as fast as it can
// for a bounded time; what was delivered, how late, and whether every subscriber ended
// at its user's newest state.
import { availableParallelism } from 'node:os';
import type { BenchChild } from '../lib/bench-child.js';
import { readRssBytes, startCpuAccount } from '../lib/proc-status.js';
import { median } from '../lib/stats.js';
import { signTokenPool } from '../lib/tokens.js';
import type { SubscriberProtocol } from '../load/subscriber-connection.js';
import type {
  ConnectResult,
  SubscriberSpec,
  SubscribersCommand,
  WindowResult,
} from '../load/subscribers-job.js';
import {
  emptyWriterResult,
  type WriterConfig,
  type WriterResult,
} from '../load/writer-protocol.js';
import type { BenchContext } from './context.js';
import { type ServerKind, type ServerStartOptions, startServer } from './servers.js';

const STATE_BYTES = 10 * 1024;
/** A server past this much memory is queueing without bound: stop the writer. */
const RSS_LIMIT_BYTES = 3 * 1024 ** 3;
/** Writer time of the unmeasured pass each system gets before the measured rounds. */
const PRIMING_MS = 3000;
/**
 * Writer time of each round's warm-up, on the round's fresh servers with its subscribers
 * connected, before the measured window: the window measures servers in their steady
 * state, and the warm-up's own latency is reported apart (a fresh process's first
 * seconds: code not yet optimised, heap not yet sized).
 */
export const WARM_UP_MS = 2000;
/** A window ends once no message arrived for this long. */
const QUIET_MS = 1000;

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

/** Who subscribes and what the writer sends: the same for every system of a run. */
export interface FanOutWorkload {
  shape: FanOutShape;
  specs: SubscriberSpec[];
  writer: Omit<WriterConfig, 'urls'>;
}

/** 1,000 subscribers and a 10 s writer (quick: 200 and 3 s). */
export async function fanOutWorkload(context: BenchContext): Promise<FanOutWorkload> {
  const shape: FanOutShape = context.quick
    ? { subscribers: 200, coldUsers: 50 }
    : { subscribers: 1000, coldUsers: 250 };
  const tokens = await signTokenPool(context.authSecret, shape.coldUsers + 1);
  const [hotToken, ...coldTokens] = tokens;
  if (hotToken === undefined) throw new Error('no hot token');
  return {
    shape,
    specs: subscriberSpecs(shape, tokens),
    writer: {
      hotToken,
      coldTokens,
      concurrency: 4,
      durationMs: context.quick ? 3000 : 10_000,
      maxSaves: context.quick ? 20_000 : 100_000,
      stateBytes: STATE_BYTES,
    },
  };
}

/** The workload's writer settings as recorded in the results (no tokens). */
export function describeWriter(workload: FanOutWorkload): Record<string, unknown> {
  return { ...workload.writer, hotToken: undefined, coldTokens: workload.writer.coldTokens.length };
}

/** One system under test: which server, how subscribers talk to it, and its Redis. */
export interface FanOutSystem {
  server: ServerKind;
  protocol: SubscriberProtocol;
  /** Which Redis the servers use (default: the orchestrator's redis-server). */
  redis?: ServerStartOptions['redis'];
  /** Empties the system's Redis before a round, so no round inherits another's keys. */
  flush(): Promise<void>;
  /** redis-server processes whose CPU is accounted (every node of a cluster). */
  redisPids: readonly number[];
  /** Extra environment of the servers (a variant of ours, e.g. another `WS_COALESCE_MS`). */
  env?: Record<string, string>;
}

export interface RoundResult {
  system: string;
  connect: ConnectResult;
  /** The writer's result without its per-save send times (used by the window, not kept). */
  writer: Omit<WriterResult, 'acceptedAt'>;
  window: WindowResult;
  /**
   * The warm-up: the first `WARM_UP_MS` of saves on the round's fresh servers (not in
   * `window`); absent from a priming pass, which is unmeasured anyway.
   */
  warmUp?: WindowResult;
  deliveredPerSec: number;
  serverCpuSeconds: number[];
  /** CPU seconds of every redis-server process of the system over the window. */
  redisCpuSeconds: number;
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

/**
 * One measured (or priming) round of one system: fresh servers, subscribers and writer;
 * a measured round first warms its servers up for `warmUpMs`.
 */
async function runRound(
  context: BenchContext,
  name: string,
  system: FanOutSystem,
  workload: FanOutWorkload,
  writerConfig: Omit<WriterConfig, 'urls'>,
  warmUpMs: number,
): Promise<RoundResult> {
  await system.flush();
  const serverOptions: ServerStartOptions = {
    openFiles: 20_000,
    ...(system.redis === undefined ? {} : { redis: system.redis }),
    ...(system.env === undefined ? {} : { env: system.env }),
  };
  const servers = [
    await startServer(context, system.server, { ...serverOptions, name: `${name}-a` }),
    await startServer(context, system.server, { ...serverOptions, name: `${name}-b` }),
  ];
  const stopAll: BenchChild[] = [...servers];
  try {
    const urls = servers.map((server) => server.url);
    const subscribers = await context.startChild({
      name: `subscribers-${name}`,
      script: 'load/subscribers-job.ts',
      cpu: context.cpu.load,
      openFiles: 20_000,
    });
    stopAll.push(subscribers);
    const command = (c: SubscribersCommand, timeoutMs: number) => subscribers.run(c, timeoutMs);
    const connect = (await command(
      {
        command: 'connect',
        protocol: system.protocol,
        urls,
        subscribers: workload.specs,
        concurrency: 50,
      },
      120_000,
    )) as ConnectResult;
    context.log(`${name}: ${connect.connected} subscribers in ${connect.durationMs} ms`);

    const writer = await context.startChild({
      name: `writer-${name}`,
      script: 'load/writer-job.ts',
      cpu: context.cpu.load,
    });
    stopAll.push(writer);
    let aborted: string | undefined;
    const watch = await watchServers(servers, (reason) => {
      aborted = reason;
      void writer.stop();
    });
    // Staleness is measured against the saves the writer had accepted in the window.
    const endWindow = async (saved: WriterResult): Promise<WindowResult> =>
      (await command(
        { command: 'end', quietMs: QUIET_MS, maxWaitMs: 20_000, acceptedAt: saved.acceptedAt },
        60_000,
      )) as WindowResult;
    // The writer for `durationMs`, or what it did not do when the memory watch stopped it.
    const runWriter = async (durationMs: number): Promise<WriterResult> => {
      try {
        return await writer.run<WriterResult>(
          { ...writerConfig, durationMs, urls } satisfies WriterConfig,
          durationMs + 30_000,
        );
      } catch (error) {
        if (aborted === undefined) throw error;
        return emptyWriterResult();
      }
    };
    // The warm-up: its saves are not counted, its latency is reported apart.
    let warmUp: WindowResult | undefined;
    if (warmUpMs > 0) {
      await command({ command: 'begin' }, 10_000);
      warmUp = await endWindow(await runWriter(warmUpMs));
    }
    const account = await startCpuAccount([
      ...servers.map((s) => s.pid),
      subscribers.pid,
      writer.pid,
      ...system.redisPids,
    ]);
    await command({ command: 'begin' }, 10_000);
    const { acceptedAt, ...writerResult } = await runWriter(writerConfig.durationMs);
    const window = await endWindow({ ...writerResult, acceptedAt });
    const cpu = await account();
    const maxServerRssBytes = await watch.stop();
    await command({ command: 'close' }, 30_000);
    const result: RoundResult = {
      system: name,
      connect,
      writer: writerResult,
      window,
      ...(warmUp === undefined ? {} : { warmUp }),
      deliveredPerSec: window.activeMs > 0 ? window.messages / (window.activeMs / 1000) : 0,
      serverCpuSeconds: servers.map((s) => cpu.byPid[s.pid] ?? Number.NaN),
      redisCpuSeconds: system.redisPids.reduce((sum, pid) => sum + (cpu.byPid[pid] ?? 0), 0),
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

export interface FanOutRuns<Name extends string> {
  results: Record<Name, RoundResult[]>;
  /** The last error of a system whose round failed (its other rounds still count). */
  errors: Partial<Record<Name, string>>;
}

/**
 * One short unmeasured pass of each system first (not in quick runs): the first measured
 * round of a run was the slowest (ours, going first, 38.8 k messages/s against 69-73 k in
 * its later rounds). Then `context.rounds` rounds interleaving the systems in the order
 * given, so a burst of load from others on this shared machine moves one round of each
 * system rather than every round of one.
 */
export async function runFanOutRounds<Name extends string>(
  context: BenchContext,
  benchmark: string,
  systems: Record<Name, FanOutSystem>,
  workload: FanOutWorkload,
): Promise<FanOutRuns<Name>> {
  const names = Object.keys(systems) as Name[];
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<
    Name,
    RoundResult[]
  >;
  const errors: Partial<Record<Name, string>> = {};
  if (!context.quick) {
    for (const name of names) {
      context.log(`${benchmark}: priming, ${name} (not measured)`);
      await runRound(
        context,
        name,
        systems[name],
        workload,
        {
          ...workload.writer,
          durationMs: PRIMING_MS,
        },
        0,
      ).catch((error: unknown) =>
        context.log(`${benchmark}: priming ${name} failed: ${String(error)}`),
      );
    }
  }
  for (let round = 1; round <= context.rounds; round++) {
    for (const name of names) {
      context.log(`${benchmark}: round ${round}, ${name}`);
      try {
        results[name].push(
          await runRound(context, name, systems[name], workload, workload.writer, WARM_UP_MS),
        );
      } catch (error) {
        // One system failing must not hide the others' figures.
        context.log(
          `${benchmark}: ${name} failed: ${error instanceof Error ? error.message : error}`,
        );
        errors[name] = String(error);
      }
    }
  }
  return { results, errors };
}

export interface SystemSummary {
  /** Medians over the rounds that ran. */
  deliveredPerSec: number | null;
  /** Staleness (see WindowResult.stalenessMs) p50 and p99. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Save→receive p99 of the messages received (info: skipped states are not in it). */
  receivedP99Ms: number | null;
  /** Staleness p99 over each round's warm-up (fresh servers' first seconds). */
  warmUpP99Ms: number | null;
  savesPerSec: number | null;
  /** Both servers' CPU over the window, as a fraction of the one core they share. */
  serverCpu: number | null;
  /**
   * Both servers' CPU ms per accepted save (fan-out included): what the save rate comes
   * to once their core is saturated, and steadier than it when others load the machine.
   */
  serverCpuMsPerSave: number | null;
  /** The subscriber process's CPU over the window, as a fraction of a core. */
  subscriberCpu: number | null;
  /** Every redis-server process's CPU over the window, as a fraction of a core. */
  redisCpu: number | null;
  othersCpuShare: number | null;
  /** Subscribers not at their user's newest state at the end, summed over the rounds. */
  subscribersBehind: number;
  invalid?: string;
}

export const percent = (fraction: number | null): string =>
  fraction === null ? 'n/a' : `${Math.round(fraction * 100)}%`;

/**
 * Medians over rounds: a burst of load from others on this shared machine moves one
 * round, not the figure. A single round with errors invalidates the system's figures.
 */
export function summarizeSystem(
  rounds: RoundResult[],
  error: string | undefined,
  specs: readonly SubscriberSpec[],
): SystemSummary {
  const reasons = rounds.flatMap((r) => {
    const reason = invalidReason(r, specs);
    return reason ? [reason] : [];
  });
  if (error !== undefined) reasons.push(error.split('\n')[0] ?? error);
  if (rounds.length === 0 && error === undefined) reasons.push('did not run');
  const med = (pick: (r: RoundResult) => number): number | null =>
    rounds.length === 0 ? null : median(rounds.map(pick));
  const windowS = (r: RoundResult): number => Math.max(r.window.activeMs, 1) / 1000;
  return {
    deliveredPerSec: med((r) => r.deliveredPerSec),
    p50Ms: med((r) => r.window.stalenessMs.p50),
    p99Ms: med((r) => r.window.stalenessMs.p99),
    receivedP99Ms: med((r) => r.window.latencyMs.p99),
    warmUpP99Ms: med((r) => r.warmUp?.stalenessMs.p99 ?? Number.NaN),
    savesPerSec: med((r) => r.writer.saves / (Math.max(r.writer.durationMs, 1) / 1000)),
    serverCpu: med((r) => r.serverCpuSeconds.reduce((a, b) => a + b, 0) / r.serverCpuWindowS),
    serverCpuMsPerSave: med(
      (r) => (r.serverCpuSeconds.reduce((a, b) => a + b, 0) * 1000) / Math.max(r.writer.saves, 1),
    ),
    subscriberCpu: med((r) => r.window.cpuSeconds / windowS(r)),
    redisCpu: med((r) => r.redisCpuSeconds / r.serverCpuWindowS),
    othersCpuShare: med((r) => r.othersCpuShare),
    subscribersBehind: rounds.reduce(
      (sum, r) => sum + subscribersBehind(specs, r.writer.lastSaved, r.window.newestReceived),
      0,
    ),
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

function invalidReason(result: RoundResult, specs: readonly SubscriberSpec[]): string | undefined {
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
  if (result.window.unreached > 0) {
    reasons.push(`${result.window.unreached} (save, subscriber) pairs never reached`);
  }
  const behind = subscribersBehind(specs, result.writer.lastSaved, result.window.newestReceived);
  if (behind > 0) reasons.push(`${behind} subscribers did not end at the newest state`);
  return reasons.length === 0 ? undefined : reasons.join(', ');
}
