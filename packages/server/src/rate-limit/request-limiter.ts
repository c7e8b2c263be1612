// The limits every request and socket message passes: one bucket per client IP (before
// auth, so anonymous floods are bounded too) and one per user (after auth). In memory
// for one instance, in Redis when there is one, so instances share one limit.
import { type Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions } from '../options.js';
import type { StateOwner } from '../scope.js';
import { createClusterClient } from '../store/redis/cluster.js';
import type { RedisClusterOptions } from '../store/redis/cluster-options.js';
import { RedisTokenBuckets } from './redis-token-buckets.js';
import { TokenBucketLimiter, type TokenBuckets } from './token-buckets.js';

export interface RequestLimiter {
  /** Spends one request of this client IP; throws/rejects RateLimitedError when none is left. */
  ip(address: string): void | Promise<void>;
  /** Spends one request of this user; throws/rejects RateLimitedError when none is left. */
  user(owner: StateOwner): void | Promise<void>;
  /** Closes what the limiter opened (its Redis connection). */
  close(): Promise<void>;
  /** Resolves true once the limiter counts (its Redis answers), false after `timeoutMs`. */
  waitUntilReady?(timeoutMs: number): Promise<boolean>;
}

/** True once `client` is ready, false when `timeoutMs` passes first. */
function readyWithin(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

/** `workspace:user`: ids match ID_PATTERN, so the pair names one user unambiguously. */
function userKey(owner: StateOwner): string {
  return `${owner.workspaceId}:${owner.userId}`;
}

function rates(options: RateLimitOptions) {
  const ipPerSecond = options.ipPerSecond ?? DEFAULT_RATE_LIMIT.ipPerSecond;
  return {
    user: { perSecond: options.savesPerSecond, burst: options.burst },
    ip: { perSecond: ipPerSecond, burst: options.ipBurst ?? ipPerSecond * 2 },
  };
}

/** Buckets in this process: the limit holds per instance. */
export function memoryRequestLimiter(options: RateLimitOptions): RequestLimiter {
  const { user, ip } = rates(options);
  const users = new TokenBucketLimiter({ savesPerSecond: user.perSecond, burst: user.burst });
  const ips = new TokenBucketLimiter({ savesPerSecond: ip.perSecond, burst: ip.burst });
  return {
    ip: (address) => ips.take(address),
    user: (owner) => users.take(userKey(owner)),
    close: async () => {},
  };
}

export interface RedisRequestLimiterOptions {
  /** One Redis (`REDIS_URL`)... */
  url?: string;
  /** ...or a Redis Cluster (the keys are hash-tagged: each bucket lives in one slot). */
  cluster?: RedisClusterOptions;
  /** CLIENT LIST name of the limiter's connection. */
  connectionName: string;
  logger: Logger;
  /** A check without an answer after this long lets the request through. @default 500 */
  commandTimeoutMs?: number;
}

/** Buckets in Redis: every instance on that Redis spends from the same buckets. */
export function redisRequestLimiter(
  options: RateLimitOptions,
  redisOptions: RedisRequestLimiterOptions,
): RequestLimiter {
  const { user, ip } = rates(options);
  const commandTimeout = redisOptions.commandTimeoutMs ?? 500;
  const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 2000);
  const redis: Redis | Cluster = redisOptions.cluster
    ? createClusterClient(redisOptions.cluster, {
        connectionName: redisOptions.connectionName,
        commandTimeoutMs: commandTimeout,
        connectTimeoutMs: 2000,
        sharded: false,
        retryStrategy,
      })
    : new Redis(redisOptions.url ?? '', {
        connectionName: redisOptions.connectionName,
        // Fail fast while Redis is away (the check then lets the request through).
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        // Checks made in one event-loop turn leave in one write (one round trip for many saves).
        enableAutoPipelining: true,
        commandTimeout,
        retryStrategy,
      });
  // Errors surface on the commands; without a listener ioredis would print each one.
  redis.on('error', () => {});
  const users: TokenBuckets = new RedisTokenBuckets(redis, 'user', user, redisOptions.logger);
  const ips: TokenBuckets = new RedisTokenBuckets(redis, 'ip', ip, redisOptions.logger);
  return {
    ip: (address) => ips.take(address),
    user: (owner) => users.take(userKey(owner)),
    close: async () => {
      redis.disconnect();
    },
    waitUntilReady: (timeoutMs) => readyWithin(redis, timeoutMs),
  };
}

/**
 * The one place the limiter is chosen: none when limits are off (`false`), buckets in
 * Redis when `redis` is given (shared by instances), else buckets in this process.
 * `rateLimit` absent means the default limits.
 */
export function createRequestLimiter(
  rateLimit: RateLimitOptions | false | undefined,
  redis?: RedisRequestLimiterOptions,
): RequestLimiter | undefined {
  const limits = rateLimit ?? DEFAULT_RATE_LIMIT;
  if (!limits) return undefined;
  return redis ? redisRequestLimiter(limits, redis) : memoryRequestLimiter(limits);
}
