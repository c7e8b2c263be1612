// The plugin's options and their checks. `startServer` reaches the plugin through
// buildApp, so both paths are checked here, once: every error names its option.
import { createPublicKey } from 'node:crypto';
import type { TokenPolicy } from '../auth/token.js';
import { algorithmOfPublicKey } from '../auth/token-keys.js';
import { OptionError } from '../errors.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import {
  checkBoolean,
  checkDelay,
  checkFunction,
  checkMethods,
  checkNumber,
  checkObject,
  checkOneOf,
  checkString,
} from '../option-checks.js';
import type { RateLimitOptions } from '../options.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';

/** Where the protective headers go: the plugin's answers, every answer of the instance, none. */
export type SecurityHeadersScope = 'api' | 'app' | false;

export interface DashboardStatePluginOptions {
  service: StatePersistenceService;
  /** HS256 secret the bearer tokens are signed with (non-empty; 32+ characters advised). */
  authSecret: string;
  /** An identity provider's public key (PEM) whose RS256/ES256/EdDSA tokens are accepted too. */
  authPublicKey?: string;
  /** An identity provider's JWKS address whose RS256/ES256/EdDSA tokens are accepted too. */
  authJwksUrl?: string;
  /** Lifetime, issuer and audience a token must meet. @default lifetime at most 24 h */
  tokenPolicy?: TokenPolicy;
  /**
   * Per-user and per-IP limits of every request and socket message; false disables them.
   * Kept in the service's Redis when its store is a Redis store (shared by every instance
   * on that Redis), else in this process. @default DEFAULT_RATE_LIMIT (20/s burst 40 per
   * user, 100/s burst 200 per IP)
   */
  rateLimit?: RateLimitOptions | false;
  /** Limits kept elsewhere; replaces `rateLimit` when given (the caller closes it). */
  requestLimiter?: RequestLimiter;
  /**
   * How long registration waits for a Redis store (and its limiter) to connect before the
   * plugin is ready anyway (503 until Redis comes; limits open until then). @default 3000
   */
  redisConnectTimeoutMs?: number;
  /**
   * Protective headers (nosniff, no framing, no referrer, a strict CSP: security-headers.ts):
   * `'api'` on the plugin's answers, `'app'` on every answer of the Fastify instance it is
   * registered on (the page too), false when the host sets its own. @default 'api'
   */
  securityHeaders?: SecurityHeadersScope;
  /** Time for a WebSocket's first `auth` message (without an Authorization header). @default 5000 */
  authTimeoutMs?: number;
  /** WebSocket ping interval; a socket that misses one pong is dropped. @default 30000 */
  heartbeatIntervalMs?: number;
  /**
   * A WebSocket whose reader drained nothing of its output for this long is closed with
   * 4408 ("stalled"); a slow reader that still drains is never cut (it gets fewer, newer
   * changes instead). @default 30000
   */
  stallTimeoutMs?: number;
  /**
   * A socket's changes wait at least this many ms after its last write and leave
   * together in one write, the newest replacing older ones (fewer system calls per
   * delivered change). 0: a change is written at the end of its turn, unless the socket's
   * previous write or the batch it was written in is still under way. @default 0
   */
  coalesceWindowMs?: number;
  /** Where the API's metrics are counted (serve them with `metrics.text()`). @default a new ServerMetrics */
  metrics?: ServerMetrics;
  /** Called when the server closes a WebSocket with a code (1001, 1013, 4401, 4408), e.g. for metrics. */
  onSocketClose?: (code: number, reason: string) => void;
}

/** A secret shorter than this is accepted with a warning (HS256 wants 256 bits of key). */
export const ADVISED_SECRET_LENGTH = 32;

/** Limits: positive rates, bursts of at least one request. */
export function checkRateLimit(value: unknown, option = 'rateLimit'): void {
  if (value === undefined || value === false) return;
  if (typeof value !== 'object' || value === null) {
    throw new OptionError(
      option,
      `must be false or { savesPerSecond, burst, ipPerSecond?, ipBurst? } (got ${typeof value === 'boolean' ? value : typeof value})`,
    );
  }
  const limits = value as Record<string, unknown>;
  for (const name of ['savesPerSecond', 'burst'] as const) {
    if (limits[name] === undefined) {
      throw new OptionError(`${option}.${name}`, 'is required (rateLimit: false turns limits off)');
    }
  }
  const rate = { min: 0, above: true, max: 1_000_000 };
  checkNumber(limits.savesPerSecond, `${option}.savesPerSecond`, rate);
  checkNumber(limits.burst, `${option}.burst`, { min: 1, max: 1_000_000 });
  checkNumber(limits.ipPerSecond, `${option}.ipPerSecond`, rate);
  checkNumber(limits.ipBurst, `${option}.ipBurst`, { min: 1, max: 1_000_000 });
}

function checkTokenPolicy(value: unknown): void {
  checkObject(value, 'tokenPolicy', true);
  if (value === undefined) return;
  checkNumber(value.maxLifetimeSeconds, 'tokenPolicy.maxLifetimeSeconds', {
    above: true,
    integer: true,
    max: 365 * 86_400,
  });
  checkString(value.issuer, 'tokenPolicy.issuer', { optional: true });
  checkString(value.audience, 'tokenPolicy.audience', { optional: true });
  checkNumber(value.clockToleranceSeconds, 'tokenPolicy.clockToleranceSeconds', { max: 86_400 });
}

function checkPublicKey(value: unknown): void {
  if (value === undefined) return;
  checkString(value, 'authPublicKey', { what: 'a PEM public key' });
  try {
    algorithmOfPublicKey(createPublicKey(value as string));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OptionError('authPublicKey', `must be a PEM public key: ${reason}`, {
      cause: error,
    });
  }
}

function checkJwksUrl(value: unknown): void {
  if (value === undefined) return;
  const what = 'an http(s):// address';
  checkString(value, 'authJwksUrl', { what });
  if (!URL.canParse(value as string) || !/^https?:\/\//.test(value as string)) {
    throw new OptionError('authJwksUrl', `must be ${what}`);
  }
}

/** Throws an OptionError naming the first option that is missing or malformed. */
export function checkPluginOptions(
  options: unknown,
): asserts options is DashboardStatePluginOptions {
  checkObject(options, 'options');
  const given = options as Record<string, unknown>;
  if (given.service === undefined) {
    throw new OptionError('service', 'is required: a StatePersistenceService');
  }
  checkMethods(
    given.service,
    'service',
    ['save', 'load', 'delete', 'subscribe', 'storeStatus', 'onStoreStatus'],
    'a StatePersistenceService',
  );
  checkString(given.authSecret, 'authSecret', {
    what: 'a non-empty string (the HS256 secret tokens are signed with; is AUTH_SECRET set?)',
  });
  checkPublicKey(given.authPublicKey);
  checkJwksUrl(given.authJwksUrl);
  checkTokenPolicy(given.tokenPolicy);
  checkRateLimit(given.rateLimit);
  checkMethods(given.requestLimiter, 'requestLimiter', ['ip', 'user', 'close'], 'a RequestLimiter');
  checkDelay(given.redisConnectTimeoutMs, 'redisConnectTimeoutMs', true);
  checkOneOf(given.securityHeaders, 'securityHeaders', ['api', 'app', false]);
  checkDelay(given.authTimeoutMs, 'authTimeoutMs');
  checkDelay(given.heartbeatIntervalMs, 'heartbeatIntervalMs');
  checkDelay(given.stallTimeoutMs, 'stallTimeoutMs');
  checkDelay(given.coalesceWindowMs, 'coalesceWindowMs', true);
  checkMethods(given.metrics, 'metrics', ['text'], 'a ServerMetrics');
  if (given.metrics !== undefined)
    checkBoolean((given.metrics as ServerMetrics).enabled, 'metrics.enabled');
  checkFunction(given.onSocketClose, 'onSocketClose');
}
