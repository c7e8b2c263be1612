// The limits every request and socket message passes: one bucket per client IP (before
// auth, so anonymous floods are bounded too) and one per user (after auth). With Redis
// both are shared by the instances, and neither costs a round trip of its own on the hot
// path: the user's token is spent by the store in the same script as the request's save,
// read or delete (user-limit.ts), and the IP's tokens are leased in blocks (ip-leases.ts).
// Without Redis both live in this process.
import { type Cluster, Redis } from 'ioredis';
import { OptionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions } from '../options.js';
import { createClusterClient } from '../store/redis/cluster.js';
import type { RedisClusterOptions } from '../store/redis/cluster-options.js';
import { IpLeases } from './ip-leases.js';
import { BucketMap, type BucketRate, checkRate } from './token-buckets.js';
import { UserLimit } from './user-limit.js';

export interface RequestLimiter {
  /** Spends one request of this client IP; throws/rejects RateLimitedError when none is left. */
  ip(address: string): void | Promise<void>;
  /** The per-user limit, spent by the store with the request's own operation; none when off. */
  readonly user: UserLimit | undefined;
  /** Closes what the limiter opened (its Redis connection). */
  close(): Promise<void>;
  /** Resolves true once the limiter counts (its Redis answers), false after `timeoutMs`. */
  waitUntilReady?(timeoutMs: number): Promise<boolean>;
  /** Per-IP settlements sent to Redis (one EVAL each), when the IP limit is shared. */
  readonly ipSettlements?: number;
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

function rates(options: RateLimitOptions): { user: BucketRate; ip: BucketRate } {
  const ipPerSecond = options.ipPerSecond ?? DEFAULT_RATE_LIMIT.ipPerSecond;
  const user = { perSecond: options.savesPerSecond, burst: options.burst };
  const ip = { perSecond: ipPerSecond, burst: options.ipBurst ?? ipPerSecond * 2 };
  checkRate(user);
  checkRate(ip);
  return { user, ip };
}

/** Buckets in this process: the limit holds per instance (the store spends the user's). */
export function memoryRequestLimiter(options: RateLimitOptions): RequestLimiter {
  const { user, ip } = rates(options);
  const ips = new BucketMap();
  return {
    ip: (address) => ips.take(address, ip),
    user: new UserLimit(user),
    close: async () => {},
  };
}

export interface RedisRequestLimiterOptions {
  /** One Redis (`REDIS_URL`)... */
  url?: string;
  /** ...or a Redis Cluster (the IP buckets share one hash tag: one slot). */
  cluster?: RedisClusterOptions;
  /** CLIENT LIST name of the limiter's connection. */
  connectionName: string;
  logger: Logger;
  /** A settlement without an answer after this long fails (IPs are then limited locally). @default 500 */
  commandTimeoutMs?: number;
}

/**
 * IP leases in Redis (the limiter's own connection, off the store's command path); the
 * user's buckets are spent by the Redis store's scripts.
 */
export function redisRequestLimiter(
  options: RateLimitOptions,
  redisOptions: RedisRequestLimiterOptions,
): RequestLimiter {
  const { user, ip } = rates(options);
  const { url, cluster } = redisOptions;
  // Without either, ioredis would quietly dial localhost:6379.
  if (!cluster && !url)
    throw new OptionError('url', 'must be a Redis URL when no cluster is given (got none)');
  const commandTimeout = redisOptions.commandTimeoutMs ?? 500;
  const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 2000);
  const redis: Redis | Cluster = cluster
    ? createClusterClient(cluster, {
        connectionName: redisOptions.connectionName,
        commandTimeoutMs: commandTimeout,
        connectTimeoutMs: 2000,
        sharded: false,
        retryStrategy,
      })
    : new Redis(url as string, {
        connectionName: redisOptions.connectionName,
        // Fail fast while Redis is away (IPs are then limited by each instance alone).
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout,
        retryStrategy,
      });
  // Errors surface on the commands; without a listener ioredis would print each one.
  redis.on('error', () => {});
  const leases = new IpLeases(redis, { rate: ip, logger: redisOptions.logger });
  return {
    ip: (address) => leases.take(address),
    user: new UserLimit(user),
    close: async () => {
      await leases.close();
      redis.disconnect();
    },
    waitUntilReady: (timeoutMs) => readyWithin(redis, timeoutMs),
    get ipSettlements() {
      return leases.settlements;
    },
  };
}

/**
 * The one place the limiter is chosen: none when limits are off (`false`), shared through
 * Redis when `redis` is given, else in this process. `rateLimit` absent means the defaults.
 */
export function createRequestLimiter(
  rateLimit: RateLimitOptions | false | undefined,
  redis?: RedisRequestLimiterOptions,
): RequestLimiter | undefined {
  const limits = rateLimit ?? DEFAULT_RATE_LIMIT;
  if (!limits) return undefined;
  return redis ? redisRequestLimiter(limits, redis) : memoryRequestLimiter(limits);
}
