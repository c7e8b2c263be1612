// Checks of options given in code (plugin, startServer, stores, service), so a missing or
// malformed one fails at once with an OptionError naming it, instead of a TypeError deep
// inside (`authSecret: process.env.AUTH_SECRET!` unset used to crash in tokenKeys).
// Values are described, never echoed when they may be secret.
import { OptionError } from './errors.js';

/** Longest delay setTimeout/setInterval keep (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** What was given, for a message: numbers and booleans as they are, others by kind. */
export function given(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    return value === '' ? 'an empty string' : `a string of ${value.length} characters`;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

function fail(option: string, expected: string, value: unknown): never {
  throw new OptionError(option, `must be ${expected} (got ${given(value)})`);
}

/** The options argument itself: a plain object (absent only where `optional`). */
export function checkObject(
  value: unknown,
  option: string,
  optional = false,
): asserts value is Record<string, unknown> | undefined {
  if (value === undefined && optional) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(option, 'an object', value);
  }
}

export function checkString(
  value: unknown,
  option: string,
  { optional = false, what = 'a non-empty string' } = {},
): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string' || value.trim() === '') fail(option, what, value);
}

export function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean') fail(option, 'true or false', value);
}

export function checkFunction(value: unknown, option: string, optional = true): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'function') fail(option, 'a function', value);
}

export interface NumberRule {
  /** Smallest value allowed. @default 0 */
  min?: number;
  /** True: `min` itself is refused (a positive number). */
  above?: boolean;
  max?: number;
  integer?: boolean;
  /** What the number counts, for the message ("milliseconds"). */
  unit?: string;
}

/** An optional number within the rule; absent is fine (the default applies). */
export function checkNumber(value: unknown, option: string, rule: NumberRule = {}): void {
  if (value === undefined) return;
  const { min = 0, above = false, max = Number.MAX_SAFE_INTEGER, integer = false } = rule;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (above ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (ok) return;
  const kind = integer ? 'integer' : 'number';
  const lower = above && min === 0 ? `a positive ${kind}` : `a ${kind} from ${min}`;
  const unit = rule.unit ? ` of ${rule.unit}` : '';
  fail(option, `${lower}${unit} up to ${max}`, value);
}

/** A delay or interval in ms a timer can hold: positive (or ≥ 0 with `zero`). */
export function checkDelay(value: unknown, option: string, zero = false): void {
  checkNumber(value, option, { min: 0, above: !zero, max: MAX_TIMER_MS, unit: 'milliseconds' });
}

/** One of a few words. */
export function checkOneOf(value: unknown, option: string, allowed: readonly unknown[]): void {
  if (value === undefined || allowed.includes(value)) return;
  const shown = typeof value === 'string' ? `"${value}"` : given(value);
  throw new OptionError(
    option,
    `must be one of ${allowed.map((word) => JSON.stringify(word)).join(', ')} (got ${shown})`,
  );
}

/** An object offering these methods (a logger, a limiter, a service). */
export function checkMethods(
  value: unknown,
  option: string,
  methods: readonly string[],
  what: string,
): void {
  if (value === undefined) return;
  const missing =
    typeof value === 'object' && value !== null
      ? methods.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
      : methods;
  if (missing.length > 0) {
    throw new OptionError(
      option,
      `must be ${what} (got ${given(value)}${typeof value === 'object' && value !== null ? ` without ${missing.join(', ')}` : ''})`,
    );
  }
}

export function checkLogger(value: unknown, option = 'logger'): void {
  checkMethods(value, option, ['debug', 'info', 'warn', 'error'], 'a logger (pino or alike)');
}

/** `redis://` or `rediss://` address: what ioredis and REDIS_URL take. */
export function checkRedisUrl(value: unknown, option: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !/^rediss?:\/\/./.test(value)) {
    throw new OptionError(
      option,
      `must be a redis:// or rediss:// address (got ${typeof value === 'string' && value !== '' ? `a string not starting with redis:// or rediss://` : given(value)})`,
    );
  }
}

/** A Redis Cluster: seed nodes, credentials, pub/sub mode. */
export function checkClusterOptions(value: unknown, option = 'cluster'): void {
  if (value === undefined) return;
  checkObject(value, option);
  const { nodes } = value as Record<string, unknown>;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    fail(`${option}.nodes`, 'a non-empty array of { host, port }', nodes);
  }
  nodes.forEach((node: unknown, index) => {
    const at = `${option}.nodes[${index}]`;
    checkObject(node, at);
    checkString((node as Record<string, unknown>).host, `${at}.host`);
    checkNumber((node as Record<string, unknown>).port, `${at}.port`, {
      min: 1,
      max: 65_535,
      integer: true,
    });
    if ((node as Record<string, unknown>).port === undefined) {
      fail(`${at}.port`, 'an integer from 1 up to 65535', undefined);
    }
  });
  const cluster = value as Record<string, unknown>;
  checkString(cluster.username, `${option}.username`, { optional: true });
  checkString(cluster.password, `${option}.password`, { optional: true });
  checkOneOf(cluster.pubsub, `${option}.pubsub`, ['sharded', 'classic']);
  checkNumber(cluster.maxRedirections, `${option}.maxRedirections`, { integer: true, max: 1000 });
}
