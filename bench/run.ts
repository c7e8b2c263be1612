// `npm run bench`: runs the benchmarks against real parts (our built server, a private
// redis-server, real sockets, Chromium) and writes bench/results/latest.{md,json}.
// Partial (--only) and --quick runs write bench/results/tmp/partial.{md,json} instead,
// so the committed results always come from a full run. See bench/README.md.
import { execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startTestRedis } from '../test-support/redis-server.js';
import { clientSize } from './benchmarks/client-size.js';
import { clusterFanOut } from './benchmarks/cluster-fan-out.js';
import type { BenchContext, Benchmark, BenchmarkOutcome } from './benchmarks/context.js';
import { fanOut } from './benchmarks/fan-out.js';
import { httpSave } from './benchmarks/http-save.js';
import { memory } from './benchmarks/memory.js';
import { metricsCost } from './benchmarks/metrics-cost.js';
import { propagation } from './benchmarks/propagation.js';
import { writeCost } from './benchmarks/write-cost.js';
import { parseArgs, UsageError } from './lib/args.js';
import { type BenchChild, startBenchChild } from './lib/bench-child.js';
import { chooseCpuLayout, pinProcess } from './lib/cpu-layout.js';
import { formatProfiles, summarizeProfiles } from './lib/cpu-profile.js';
import { ensureServerBuild } from './lib/ensure-build.js';
import { redisPidFromInfo } from './lib/redis-process.js';
import {
  BENCHMARK_IDS,
  type BenchmarkId,
  type Figure,
  judge,
  type RunInfo,
  renderMarkdown,
  writeResults,
} from './lib/results.js';

/** The whole run must stay under 10 minutes on 2 cores; stop cleanly before that. */
const RUN_DEADLINE_MS = 9.5 * 60 * 1000;

const benchmarks: Record<BenchmarkId, Benchmark> = {
  'client-size': clientSize,
  'http-save': httpSave,
  'metrics-cost': metricsCost,
  'fan-out': fanOut,
  propagation,
  'write-cost': writeCost,
  memory,
  'cluster-fan-out': clusterFanOut,
};

const root = fileURLToPath(new URL('..', import.meta.url));
const startedAt = Date.now();
const loadAtStart = loadavg()[0] ?? 0;
const log = (message: string): void => {
  process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
};

function gitCommit(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
    // The results a previous run wrote are not code: they do not make this run uncommitted.
    const dirty = execSync("git status --porcelain -- packages apps bench ':!bench/results'", {
      cwd: root,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? head : `${head}+uncommitted`;
  } catch {
    return 'unknown';
  }
}

function failedFigure(id: BenchmarkId, error: unknown): Figure {
  const message = error instanceof Error ? error.message : String(error);
  return {
    benchmark: id,
    label: `${id} (did not complete)`,
    unit: '',
    ours: null,
    baseline: null,
    baselineLabel: '',
    target: { kind: 'at-most', value: 0 },
    invalid: message.split('\n')[0] ?? message,
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = args.only.length > 0 ? args.only : [...BENCHMARK_IDS];
  const partial = args.only.length > 0 || args.quick;
  const outBase = partial ? `${root}bench/results/tmp/partial` : `${root}bench/results/latest`;
  const cpu = chooseCpuLayout(args.pin);
  log(`benchmarks: ${selected.join(', ')}${args.quick ? ' (quick)' : ''}; ${cpu.description}`);

  const details: Record<string, unknown> = {};
  if (args.build) {
    try {
      details.rebuilt = ensureServerBuild(root, log);
    } catch (error) {
      // Baselines still run; ours will fail to start and its figures say why.
      log(`build failed, ours will not run: ${error instanceof Error ? error.message : error}`);
      details.buildError = error instanceof Error ? error.message : String(error);
    }
  }

  const profileDir = args.profile ? `${root}bench/results/tmp/profiles-${startedAt}` : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const children = new Set<BenchChild>();
  /** Stopped with the run, also when it is interrupted (e.g. a benchmark's Redis Cluster). */
  const resources = new Set<{ close(): Promise<void> }>();
  const redis = await startTestRedis();
  const admin = new Redis(redis.url);
  const redisPid = redisPidFromInfo(await admin.info('server'), redis.url);
  if (cpu.load !== undefined) pinProcess(redisPid, cpu.load);
  const cleanup = async (): Promise<void> => {
    await Promise.all([...children].map((child) => child.stop().catch(() => undefined)));
    await Promise.all([...resources].map((resource) => resource.close().catch(() => undefined)));
    admin.disconnect();
    await redis.close();
  };
  const onSignal = (): void => {
    log('interrupted: stopping every process started by the bench');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const deadline = setTimeout(() => {
    log(`run exceeded ${RUN_DEADLINE_MS / 60000} minutes: stopping`);
    void cleanup().finally(() => process.exit(2));
  }, RUN_DEADLINE_MS);

  const context: BenchContext = {
    quick: args.quick,
    rounds: args.rounds,
    redis,
    redisPid,
    authSecret: `bench-secret-${startedAt}-0123456789abcdef0123456789abcdef`,
    cpu,
    profileDir,
    log,
    flushRedis: async () => {
      await admin.flushall();
    },
    closeWithRun: (resource) => {
      resources.add(resource);
    },
    startChild: async (options) => {
      const child = await startBenchChild(
        profileDir
          ? {
              ...options,
              // One folder per process, so each profile is found by the process's name.
              nodeArgs: [
                ...(options.nodeArgs ?? []),
                '--cpu-prof',
                `--cpu-prof-dir=${profileDir}/${options.name}-${Date.now()}`,
              ],
            }
          : options,
      );
      children.add(child);
      return child;
    },
  };

  const figures: Figure[] = [];
  let broken = 0;
  const settings = {
    only: selected,
    quick: args.quick,
    rounds: args.rounds,
    pinned: args.pin,
    profile: args.profile,
  };
  const info = (): RunInfo => ({
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: (Date.now() - startedAt) / 1000,
    mode: args.quick ? 'quick' : 'full',
    only: selected,
    gitCommit: gitCommit(),
    node: process.version,
    cpus: `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    cpuLayout: cpu.description,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
    settings,
  });
  try {
    for (const id of selected) {
      log(`${id}: start`);
      let outcome: BenchmarkOutcome;
      try {
        outcome = await benchmarks[id](context);
      } catch (error) {
        broken++;
        log(`${id}: failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
        outcome = { figures: [failedFigure(id, error)], details: { error: String(error) } };
      }
      figures.push(...outcome.figures);
      details[id] = outcome.details;
      await Promise.all([...children].map((child) => child.stop()));
      children.clear();
      // Written after every benchmark, so an interrupted run still leaves what it measured.
      await writeResults(outBase, info(), figures.map(judge), details);
      log(`${id}: done`);
    }
    if (profileDir) {
      const profiles = await summarizeProfiles(profileDir);
      details.profiles = profiles;
      log(
        `main-thread profiles in ${profileDir} (self time, % of busy time):\n${formatProfiles(profiles)}`,
      );
    }
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
  const judged = figures.map(judge);
  await writeResults(outBase, info(), judged, details);
  process.stdout.write(`${renderMarkdown(info(), judged)}\n`);
  const missed = judged.filter((figure) => figure.pass === false).length;
  log(`wrote ${outBase}.md and .json: ${missed} target(s) missed, ${broken} benchmark(s) broken`);
  return broken > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof UsageError ? error.message : error instanceof Error ? error.stack : error}\n`,
    );
    process.exit(error instanceof UsageError ? 64 : 1);
  },
);
