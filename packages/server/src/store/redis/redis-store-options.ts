// What a RedisStateStore is given, and the defaults of what may be left out.
import type { Logger } from '../../logger.js';
import type { StoreMetrics } from '../../metrics/store-metrics.js';
import type { RedisClusterOptions } from './cluster-options.js';

export interface RedisStateStoreOptions {
  /** `redis://[user:password@]host:port[/db]`: one Redis. Give this or `cluster`. */
  redisUrl?: string;
  /** @deprecated the old name of `redisUrl` (same meaning; give one of them). */
  url?: string;
  /** A Redis Cluster (seed nodes, credentials, pub/sub mode) instead of `redisUrl`. */
  cluster?: RedisClusterOptions;
  /** Prefix of the connection names in `CLIENT LIST` (`<name>:cmd`, `<name>:sub`). @default 'hyvve' */
  connectionName?: string;
  /** A command without a reply after this long fails with StoreUnavailableError. @default 1500 */
  commandTimeoutMs?: number;
  /** @default 2000 */
  connectTimeoutMs?: number;
  /** Upper bound of the reconnect backoff (it starts at 50 ms and doubles). @default 2000 */
  maxReconnectDelayMs?: number;
  /** @default silent */
  logger?: Logger;
  /** Told of connections lost and restored, resyncs and arriving changes. @default none */
  metrics?: StoreMetrics;
}

export const DEFAULTS = {
  connectionName: 'hyvve',
  commandTimeoutMs: 1500,
  connectTimeoutMs: 2000,
  maxReconnectDelayMs: 2000,
} as const;
