// What the Prometheus metrics cost on the save path: the HTTP save load of `http-save`
// against our server with its metrics on (as shipped) and off (`metrics: false`: no
// onResponse hook, no counting, no process metrics), in interleaved rounds.
import type { Figure } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { signTokenPool } from '../lib/tokens.js';
import type { HttpLoadConfig } from '../load/http-load-job.js';
import { BENCH_USER_HEADER, SAVE_PATH } from '../servers/env.js';
import type { Benchmark } from './context.js';
import { BENCH_USERS, CONNECTIONS, type Measurement, measure, STATE_BYTES } from './http-save.js';
import type { ServerKind } from './servers.js';

// Both in the default configuration (limits on): metrics on as shipped, and off.
const SERVERS: ServerKind[] = ['ours-default', 'ours-no-metrics'];

export const metricsCost: Benchmark = async (context) => {
  const durationS = context.quick ? 3 : 8;
  // Both in the default configuration (limits on), as http-save measures ours.
  const tokens = await signTokenPool(context.authSecret, BENCH_USERS);
  const config: Omit<HttpLoadConfig, 'url'> = {
    path: SAVE_PATH,
    connections: CONNECTIONS,
    durationS,
    warmupS: context.quick ? 1 : 2,
    tokens,
    userHeader: BENCH_USER_HEADER,
    stateBytes: STATE_BYTES,
  };
  const measured: Record<string, Measurement[]> = { 'ours-default': [], 'ours-no-metrics': [] };
  const errors: string[] = [];
  // Interleaved, so a burst of load from others on the machine hits both alike.
  for (let round = 1; round <= context.rounds; round++) {
    for (const server of round % 2 === 1 ? SERVERS : [...SERVERS].reverse()) {
      context.log(`metrics-cost: round ${round}, ${server}`);
      try {
        measured[server]?.push(await measure(context, server, config));
      } catch (error) {
        errors.push(`${server} round ${round}: ${String(error).split('\n')[0]}`);
      }
    }
  }
  const rate = (server: ServerKind): number | null => {
    const rounds = measured[server] ?? [];
    return rounds.length === 0 ? null : median(rounds.map((m) => m.load.requestsPerSec));
  };
  const p99 = (server: ServerKind): number | null => {
    const rounds = measured[server] ?? [];
    return rounds.length === 0 ? null : median(rounds.map((m) => m.load.latencyMs.p99));
  };
  const failed = Object.values(measured)
    .flat()
    .filter((m) => m.load.non2xx > 0 || m.load.errors > 0 || m.load.timeouts > 0).length;
  const invalid = [...errors, ...(failed > 0 ? [`${failed} round(s) with failed requests`] : [])];
  const common = {
    benchmark: 'metrics-cost' as const,
    ...(invalid.length > 0 ? { invalid: invalid.join('; ') } : {}),
  };
  const figures: Figure[] = [
    {
      ...common,
      label: 'HTTP save throughput with metrics (10 KB, 50 conns)',
      unit: 'req/s',
      ours: rate('ours-default'),
      baseline: rate('ours-no-metrics'),
      baselineLabel: 'ours, metrics off',
      // The metrics may cost at most 3 % of the save throughput.
      target: { kind: 'ratio-at-least', value: 0.97 },
      note: `default configuration (limits on) both; median of ${context.rounds} interleaved round(s) each`,
    },
    {
      ...common,
      label: 'HTTP save p99 latency with metrics',
      unit: 'ms',
      ours: p99('ours-default'),
      baseline: p99('ours-no-metrics'),
      baselineLabel: 'ours, metrics off',
      target: { kind: 'info' },
    },
  ];
  return { figures, details: { durationS, measured } };
};
