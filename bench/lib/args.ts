// Command line of `npm run bench`: which benchmarks, how long, and how.
import { BENCHMARK_IDS, type BenchmarkId, ON_REQUEST_BENCHMARK_IDS } from './results.js';

export interface BenchArgs {
  only: BenchmarkId[];
  quick: boolean;
  /** Rounds per server where a benchmark repeats (the best is kept, all are recorded). */
  rounds: number;
  /** Run servers under --cpu-prof and summarise their top frames. */
  profile: boolean;
  pin: boolean;
  /** Build the server from source first when its dist is missing or older than its src. */
  build: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

const KNOWN_IDS: readonly string[] = [...BENCHMARK_IDS, ...ON_REQUEST_BENCHMARK_IDS];

export const USAGE = `usage: npm run bench -- [--only <${KNOWN_IDS.join('|')}>[,...]] [--quick]
                      [--rounds N] [--profile] [--no-pin] [--no-build]
(${ON_REQUEST_BENCHMARK_IDS.join(', ')}: only with --only, never in the full run)`;

function isBenchmarkId(value: string): value is BenchmarkId {
  return KNOWN_IDS.includes(value);
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    only: [],
    quick: false,
    rounds: 0,
    profile: false,
    pin: true,
    build: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--only':
        for (const id of value().split(',')) {
          if (!isBenchmarkId(id)) throw new UsageError(`unknown benchmark '${id}'`);
          args.only.push(id);
        }
        break;
      case '--quick':
        args.quick = true;
        break;
      case '--rounds': {
        const rounds = Number(value());
        if (!Number.isInteger(rounds) || rounds < 1 || rounds > 5) {
          throw new UsageError('--rounds takes 1..5');
        }
        args.rounds = rounds;
        break;
      }
      case '--profile':
        args.profile = true;
        break;
      case '--no-pin':
        args.pin = false;
        break;
      case '--no-build':
        args.build = false;
        break;
      case '--help':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (args.rounds === 0) args.rounds = args.quick ? 1 : 3;
  return args;
}
