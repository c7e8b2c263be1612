// Checks of the stores' options (the classes and the create* factories), so a wrong one
// fails at construction with an OptionError naming it, not at the first command.
import { OptionError } from '../errors.js';
import {
  checkClusterOptions,
  checkDelay,
  checkFunction,
  checkLogger,
  checkMethods,
  checkObject,
  checkRedisUrl,
  checkString,
} from '../option-checks.js';

/** `redisUrl` (or its old name `url`) or `cluster`, exactly one, and the connection settings. */
export function checkRedisStoreOptions(options: unknown): void {
  checkObject(options, 'options');
  const given = options as Record<string, unknown>;
  checkRedisUrl(given.redisUrl, 'redisUrl');
  checkRedisUrl(given.url, 'url');
  if (given.redisUrl !== undefined && given.url !== undefined && given.redisUrl !== given.url) {
    throw new OptionError('redisUrl', 'and `url` (its old name) differ: give `redisUrl` only');
  }
  const url = given.redisUrl ?? given.url;
  if ((url === undefined) === (given.cluster === undefined)) {
    throw new OptionError(
      'redisUrl',
      url === undefined
        ? 'or `cluster` is required: RedisStateStore needs either `redisUrl` (one Redis) or `cluster`'
        : 'and `cluster` exclude each other: RedisStateStore needs either `redisUrl` (one Redis) or `cluster`',
    );
  }
  checkClusterOptions(given.cluster);
  checkString(given.connectionName, 'connectionName', { optional: true });
  checkDelay(given.commandTimeoutMs, 'commandTimeoutMs');
  checkDelay(given.connectTimeoutMs, 'connectTimeoutMs');
  checkDelay(given.maxReconnectDelayMs, 'maxReconnectDelayMs');
  checkLogger(given.logger);
  checkMethods(
    given.metrics,
    'metrics',
    ['storeConnection', 'storeReconnected', 'storeResynced'],
    'StoreMetrics (a ServerMetrics)',
  );
}

export function checkMemoryStoreOptions(options: unknown): void {
  checkObject(options, 'options', true);
  if (options === undefined) return;
  checkFunction(options.now, 'now');
  checkDelay(options.sweepIntervalMs, 'sweepIntervalMs');
  checkLogger(options.logger);
}

/** createStateStore: `redisUrl` may be empty or absent (memory), as `process.env.REDIS_URL` is. */
export function checkStateStoreOptions(options: unknown): void {
  checkObject(options, 'options', true);
  if (options === undefined) return;
  if (options.redisUrl !== undefined && options.redisUrl !== '') {
    checkRedisUrl(options.redisUrl, 'redisUrl');
  }
  if (options.redisUrl === undefined || options.redisUrl === '') {
    if (options.cluster === undefined) checkMemoryStoreOptions({ logger: options.logger });
  }
}
