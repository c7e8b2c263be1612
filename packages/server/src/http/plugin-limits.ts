// The limits the plugin applies, for startServer and any host alike: the caller's limiter
// when given, else the default (or `rateLimit`) limits, kept in the store's Redis when the
// service's store is a Redis store, so every instance on that Redis shares one limit.
import type { Logger } from '../logger.js';
import { createRequestLimiter, type RequestLimiter } from '../rate-limit/request-limiter.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';
import { RedisStateStore } from '../store/redis/redis-store.js';
import type { DashboardStatePluginOptions } from './plugin-options.js';

export interface PluginLimits {
  limiter: RequestLimiter | undefined;
  /** True when the plugin made the limiter (and closes it with the app). */
  owned: boolean;
}

export async function pluginLimits(
  options: Pick<DashboardStatePluginOptions, 'rateLimit' | 'requestLimiter'>,
  service: StatePersistenceService,
  logger: Logger,
  connectTimeoutMs: number,
): Promise<PluginLimits> {
  if (options.requestLimiter) return { limiter: options.requestLimiter, owned: false };
  const { store } = service;
  const redis =
    store instanceof RedisStateStore
      ? { ...store.target, connectionName: `${store.connectionName}:limit`, logger }
      : undefined;
  const limiter = createRequestLimiter(options.rateLimit, redis);
  // Until it is connected a Redis limiter lets requests through: give it the store's time.
  const ready = await limiter?.waitUntilReady?.(connectTimeoutMs);
  if (ready === false) {
    logger.warn(
      { waitedMs: connectTimeoutMs },
      'the rate limiter cannot reach Redis yet: requests pass unlimited until it can',
    );
  }
  return { limiter, owned: limiter !== undefined };
}
