// 1. HTTP save: autocannon against ours, the Redis floor and the framework floor, each
// in its own process, plus redis-benchmark SET of the same payload (the store's limit).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { startCpuAccount } from '../lib/proc-status.js';
import { clientCommandCalls } from '../lib/redis-commands.js';
import type { Figure } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { signTokenPool } from '../lib/tokens.js';
import type { HttpLoadConfig, HttpLoadResult } from '../load/http-load-job.js';
import { BENCH_USER_HEADER, SAVE_PATH } from '../servers/env.js';
import type { BenchContext, Benchmark } from './context.js';
import { type ServerKind, startServer } from './servers.js';

export const STATE_BYTES = 10 * 1024;
export const CONNECTIONS = 50;
/**
 * Users of the save load, each with its own client address: enough that none of them
 * comes near the default per-user limit (20/s) or per-IP limit (100/s) at the rates
 * measured (2 000 users share 40 000 saves/s before one would).
 */
export const BENCH_USERS = 2000;

export interface Measurement {
  load: HttpLoadResult;
  /** CPU the server used over the warm-up and the run. */
  serverCpuSeconds: number;
  /** CPU redis-server used over the same time (what the server's Redis calls cost there). */
  redisCpuSeconds: number;
  /** Share of the machine's CPUs used by processes outside the bench meanwhile. */
  othersCpuShare: number;
  warmupS: number;
  /** Commands the server sent Redis per request, warm-up and run (INFO commandstats). */
  redisCommandsPerSave: number;
}

interface RoundResult {
  round: number;
  server: ServerKind;
  /** null when the server or the load failed (see `error`). */
  measurement: Measurement | null;
  error?: string;
}

export async function measure(
  context: BenchContext,
  server: ServerKind,
  config: Omit<HttpLoadConfig, 'url'>,
): Promise<Measurement> {
  await context.flushRedis();
  const instance = await startServer(context, server);
  try {
    const load = await context.startChild({
      name: `autocannon-${server}`,
      script: 'load/http-load-job.ts',
      cpu: context.cpu.load,
    });
    try {
      const commandsBefore = await clientCommandCalls(context.redis.url);
      const account = await startCpuAccount([instance.pid, context.redisPid, load.pid]);
      const result = await load.run<HttpLoadResult>(
        { ...config, url: instance.url } satisfies HttpLoadConfig,
        (config.durationS + config.warmupS + 30) * 1000,
      );
      const cpu = await account();
      const commands = (await clientCommandCalls(context.redis.url)) - commandsBefore;
      const requests = requestsOf(result);
      return {
        redisCommandsPerSave: commands / Math.max(1, requests),
        load: result,
        serverCpuSeconds: cpu.byPid[instance.pid] ?? Number.NaN,
        redisCpuSeconds: cpu.byPid[context.redisPid] ?? Number.NaN,
        othersCpuShare: cpu.othersS / (cpu.wallS * availableParallelism()),
        warmupS: config.warmupS,
      };
    } finally {
      await load.stop();
    }
  } finally {
    await instance.stop();
  }
}

interface RedisBenchmarkResult {
  requestsPerSec: number;
  p50Ms: number | null;
  raw: string;
}

/** `redis-benchmark -t set -d <bytes> -q`: the store's own SET rate for this payload. */
async function redisBenchmark(
  context: BenchContext,
  requests: number,
): Promise<RedisBenchmarkResult> {
  const args = [
    '-p',
    String(context.redis.port),
    '-t',
    'set',
    '-d',
    String(STATE_BYTES),
    '-n',
    String(requests),
    '-c',
    String(CONNECTIONS),
    '-q',
  ];
  const command = context.cpu.load === undefined ? 'redis-benchmark' : 'taskset';
  const fullArgs =
    context.cpu.load === undefined
      ? args
      : ['-c', String(context.cpu.load), 'redis-benchmark', ...args];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`redis-benchmark exited with ${code}: ${text}`));
    });
  });
  // Progress lines end in \r; the summary is the last `SET: N requests per second` line.
  const lines = output.split(/[\r\n]+/).filter((line) => line.startsWith('SET:'));
  const summary = lines[lines.length - 1] ?? '';
  const rate = /SET:\s+([\d.]+) requests per second/.exec(summary);
  const p50 = /p50=([\d.]+) msec/.exec(summary);
  if (!rate?.[1]) throw new Error(`unreadable redis-benchmark output: ${output.slice(-300)}`);
  return {
    requestsPerSec: Number(rate[1]),
    p50Ms: p50?.[1] ? Number(p50[1]) : null,
    raw: summary.trim(),
  };
}

interface ServerSummary {
  /** Medians over the rounds that ran. */
  requestsPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  serverCpuUtilization: number | null;
  /** Server CPU per request served, warm-up and run, in µs: moves far less than req/s with the machine's noise. */
  serverCpuUsPerSave: number | null;
  /** redis-server CPU per 1,000 requests, in ms. */
  redisCpuMsPer1000: number | null;
  redisCommandsPerSave: number | null;
  othersCpuShare: number | null;
  /** Why the figures are not valid: any round with an error or a failed start. */
  invalid?: string;
}

/**
 * Medians over rounds: a burst of load from others on this shared machine moves one
 * round, not the figure. A single round with errors invalidates the server's figures.
 */
function summarizeServer(rounds: RoundResult[], server: ServerKind): ServerSummary {
  const mine = rounds.filter((r) => r.server === server);
  const measured = mine.flatMap((r) => (r.measurement ? [r.measurement] : []));
  const reasons = [
    ...mine.flatMap((r) => (r.error ? [`round ${r.round}: ${r.error.split('\n')[0]}`] : [])),
    ...measured.flatMap((m) => {
      const reason = invalidReason(m.load);
      return reason ? [reason] : [];
    }),
  ];
  const med = (pick: (m: Measurement) => number): number | null =>
    measured.length === 0 ? null : median(measured.map(pick));
  const durationS = (m: Measurement): number => m.load.durationS + m.warmupS;
  return {
    requestsPerSec: med((m) => m.load.requestsPerSec),
    p50Ms: med((m) => m.load.latencyMs.p50),
    p99Ms: med((m) => m.load.latencyMs.p99),
    serverCpuUtilization: med((m) => m.serverCpuSeconds / durationS(m)),
    serverCpuUsPerSave: med((m) => (m.serverCpuSeconds * 1e6) / Math.max(1, requestsOf(m.load))),
    othersCpuShare: med((m) => m.othersCpuShare),
    redisCommandsPerSave: med((m) => m.redisCommandsPerSave),
    redisCpuMsPer1000: med(
      (m) => (m.redisCpuSeconds * 1e6) / Math.max(1, m.load.requestsPerSec * durationS(m)),
    ),
    ...(reasons.length > 0 ? { invalid: reasons.join('; ') } : {}),
  };
}

/** Requests the server answered, warm-up included (the span its CPU is read over). */
function requestsOf(load: HttpLoadResult): number {
  return load.total2xx + load.non2xx + load.warmup.requests;
}

const percent = (fraction: number | null): string =>
  fraction === null ? 'n/a' : `${Math.round(fraction * 100)}%`;

function invalidReason(load: HttpLoadResult): string | undefined {
  if (load.non2xx === 0 && load.errors === 0 && load.timeouts === 0) return undefined;
  return `${load.non2xx} non-2xx (${JSON.stringify(load.statusCodes)}), ${load.errors} errors, ${load.timeouts} timeouts`;
}

/** Seconds of the unmeasured pass each server gets before the measured rounds. */
const PRIMING_S = 3;
/**
 * Servers behind info rows only (limits off, the framework floor): measured in the first
 * round alone. With all four in every round the full run outgrew its 10 minutes and
 * lost its last benchmarks (issue 21's staleness and warm-up made fan-out longer).
 */
const INFO_ONLY: ReadonlySet<ServerKind> = new Set<ServerKind>(['ours', 'framework-floor']);

export const httpSave: Benchmark = async (context) => {
  const durationS = context.quick ? 3 : 10;
  const users = BENCH_USERS;
  const tokens = await signTokenPool(context.authSecret, users);
  const config: Omit<HttpLoadConfig, 'url'> = {
    path: SAVE_PATH,
    connections: CONNECTIONS,
    durationS,
    warmupS: context.quick ? 1 : 2,
    tokens,
    userHeader: BENCH_USER_HEADER,
    stateBytes: STATE_BYTES,
  };
  // `ours-default`: the default configuration (limits and metrics on); `ours` (limits off) as an info row.
  const servers: ServerKind[] = ['ours-default', 'ours', 'redis-floor', 'framework-floor'];
  // One short unmeasured pass of each server first: in every run the first measured
  // round was the slowest for all three (8-40 % for ours, which went first), the run's
  // one-time warm-up landing on whichever server came first. Skipped in quick runs.
  if (!context.quick) {
    for (const server of servers) {
      context.log(`http-save: priming, ${server} (not measured)`);
      await measure(context, server, { ...config, durationS: PRIMING_S, warmupS: 0 }).catch(
        (error: unknown) => context.log(`http-save: priming ${server} failed: ${String(error)}`),
      );
    }
  }
  const rounds: RoundResult[] = [];
  // Rounds interleave the servers, so a burst of load from others on this shared
  // machine hits one round of each rather than every round of one server.
  for (let round = 1; round <= context.rounds; round++) {
    for (const server of servers) {
      if (round > 1 && INFO_ONLY.has(server)) continue;
      context.log(`http-save: round ${round}, ${server}`);
      try {
        rounds.push({ round, server, measurement: await measure(context, server, config) });
      } catch (error) {
        // One server failing (e.g. ours not built yet) must not hide the others' figures.
        context.log(
          `http-save: ${server} failed: ${error instanceof Error ? error.message : error}`,
        );
        rounds.push({ round, server, measurement: null, error: String(error) });
      }
    }
  }
  const ours = summarizeServer(rounds, 'ours-default');
  const limitsOff = summarizeServer(rounds, 'ours');
  const redisFloor = summarizeServer(rounds, 'redis-floor');
  const frameworkFloor = summarizeServer(rounds, 'framework-floor');
  context.log('http-save: redis-benchmark');
  const redisBench = await redisBenchmark(context, context.quick ? 20_000 : 100_000);
  await context.flushRedis();

  const invalid = [
    ours.invalid && `ours: ${ours.invalid}`,
    limitsOff.invalid && `ours, limits off: ${limitsOff.invalid}`,
    redisFloor.invalid && `Redis floor: ${redisFloor.invalid}`,
  ]
    .filter(Boolean)
    .join('; ');
  const common = {
    benchmark: 'http-save' as const,
    ...(invalid ? { invalid } : {}),
  };
  const figures: Figure[] = [
    {
      ...common,
      label: 'HTTP save throughput (10 KB, 50 conns, default config: limits + metrics on)',
      unit: 'req/s',
      ours: ours.requestsPerSec,
      baseline: redisFloor.requestsPerSec,
      baselineLabel: 'Redis floor',
      target: { kind: 'ratio-at-least', value: 0.9 },
      note: `${context.cpu.description}; ${users} users, each its own client address (X-Forwarded-For, TRUST_PROXY); median of ${context.rounds} round(s) (the framework floor: the first); server CPU busy (of its one core): ours ${percent(ours.serverCpuUtilization)}, Redis floor ${percent(redisFloor.serverCpuUtilization)}, framework floor ${percent(frameworkFloor.serverCpuUtilization)}; other processes on the machine used ${percent(ours.othersCpuShare)} / ${percent(redisFloor.othersCpuShare)} / ${percent(frameworkFloor.othersCpuShare)} of its CPUs`,
    },
    {
      ...common,
      label: 'HTTP save p99 latency',
      unit: 'ms',
      ours: ours.p99Ms,
      baseline: redisFloor.p99Ms,
      baselineLabel: 'Redis floor',
      target: { kind: 'ratio-at-most', value: 1.2 },
    },
    {
      ...common,
      label: 'HTTP save throughput, limits off',
      unit: 'req/s',
      ours: limitsOff.requestsPerSec,
      baseline: redisFloor.requestsPerSec,
      baselineLabel: 'Redis floor',
      target: { kind: 'info' },
      note: `RATE_LIMIT_SAVES_PER_SECOND=0; p99 ${limitsOff.p99Ms ?? 'n/a'} ms; first round only`,
    },
    {
      ...common,
      label: 'HTTP save server CPU per save (default config)',
      unit: 'µs',
      ours: ours.serverCpuUsPerSave,
      baseline: redisFloor.serverCpuUsPerSave,
      baselineLabel: 'Redis floor',
      target: { kind: 'info' },
      note: `the server process's utime + stime over warm-up and run ÷ requests answered; medians of the rounds. Less noisy than req/s on a shared machine: a server whose core is saturated serves about 1 / (CPU per save). Limits off: ${limitsOff.serverCpuUsPerSave?.toFixed(1) ?? 'n/a'} µs`,
    },
    {
      ...common,
      label: 'Redis commands per save (default config)',
      unit: 'commands',
      ours: ours.redisCommandsPerSave,
      baseline: redisFloor.redisCommandsPerSave,
      baselineLabel: 'Redis floor',
      target: { kind: 'info' },
      note: `INFO commandstats: commands the server sent Redis (not those run inside its scripts) / requests, warm-up included; one save script per save, plus the per-IP lease settlements (one EVAL per 50 ms per instance at most, for every IP). Limits off: ${limitsOff.redisCommandsPerSave?.toFixed(4) ?? 'n/a'}`,
    },
    {
      benchmark: 'http-save',
      label: 'HTTP save throughput vs framework floor',
      unit: 'req/s',
      ours: ours.requestsPerSec,
      baseline: frameworkFloor.requestsPerSec,
      baselineLabel: 'framework floor',
      target: { kind: 'info' },
      note: 'the framework floor in the first round only',
    },
    {
      benchmark: 'http-save',
      label: 'Redis floor vs framework floor',
      unit: 'req/s',
      ours: redisFloor.requestsPerSec,
      baseline: frameworkFloor.requestsPerSec,
      baselineLabel: 'framework floor',
      target: { kind: 'info' },
      note: '"Ours" column is the Redis floor here: how much the one Redis round trip costs (the framework floor in the first round only).',
    },
    {
      benchmark: 'http-save',
      label: 'Store limit: redis-benchmark SET 10 KB',
      unit: 'req/s',
      ours: ours.requestsPerSec,
      baseline: redisBench.requestsPerSec,
      baselineLabel: 'redis-benchmark SET',
      target: { kind: 'info' },
    },
  ];
  return {
    figures,
    details: {
      stateBytes: STATE_BYTES,
      connections: CONNECTIONS,
      durationS,
      users,
      rounds,
      medians: { ours, limitsOff, redisFloor, frameworkFloor },
      redisBenchmark: redisBench,
    },
  };
};
