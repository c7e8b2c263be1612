// Variants of ours as extra systems of one `fan-out` run, for A/B comparisons on a shared
// machine (ratios within one run): BENCH_FAN_OUT_VARIANTS='w0:WS_COALESCE_MS=0;w10:WS_COALESCE_MS=10'
// adds systems `ours-w0` and `ours-w10` (patch subscribers, servers with that environment),
// each reported as an info row beside the targets.
import type { Figure } from '../lib/results.js';
import type { FanOutSystem, SystemSummary } from './fan-out-rounds.js';

export class FanOutVariantsError extends Error {
  constructor(spec: string, reason: string) {
    super(`BENCH_FAN_OUT_VARIANTS entry '${spec}': ${reason}`);
    this.name = 'FanOutVariantsError';
  }
}

export interface FanOutVariant {
  /** System name: `ours-<name>`. */
  system: string;
  env: Record<string, string>;
}

/** Parses `name:KEY=VALUE,KEY=VALUE;name2:...` (empty or unset: no variants). */
export function parseFanOutVariants(raw: string | undefined): FanOutVariant[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(';').map((spec) => {
    const [name, settings] = spec.split(':', 2);
    if (!name || !/^[a-z0-9-]+$/i.test(name)) throw new FanOutVariantsError(spec, 'bad name');
    const env: Record<string, string> = {};
    for (const pair of (settings ?? '').split(',')) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new FanOutVariantsError(spec, `expected KEY=VALUE, got '${pair}'`);
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return { system: `ours-${name}`, env };
  });
}

export function variantSystems(
  variants: readonly FanOutVariant[],
  base: Omit<FanOutSystem, 'env'>,
): Record<string, FanOutSystem> {
  return Object.fromEntries(variants.map((v) => [v.system, { ...base, env: v.env }]));
}

const ms = (value: number | null): string =>
  value === null ? 'n/a' : `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** One info row per variant: its staleness p99 against Socket.IO's, p50 and saves in the note. */
export function variantFigure(
  variant: FanOutVariant,
  summary: SystemSummary,
  socketio: SystemSummary,
): Figure {
  return {
    benchmark: 'fan-out',
    baselineLabel: 'Socket.IO + redis-adapter',
    ...(summary.invalid ? { invalid: summary.invalid } : {}),
    label: `Fan-out staleness p99, variant ${variant.system} (${Object.entries(variant.env)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')})`,
    unit: 'ms',
    ours: summary.p99Ms,
    baseline: socketio.p99Ms,
    target: { kind: 'info' },
    note: `p50 ${ms(summary.p50Ms)} vs ${ms(socketio.p50Ms)}; saves/s ${summary.savesPerSec?.toFixed(0) ?? 'n/a'} vs ${socketio.savesPerSec?.toFixed(0) ?? 'n/a'}; servers' CPU per save ${ms(summary.serverCpuMsPerSave)} vs ${ms(socketio.serverCpuMsPerSave)}; subscribers behind ${summary.subscribersBehind}`,
  };
}
