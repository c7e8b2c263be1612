// Checks of startServer's own options (the plugin's, the service's and the store's are
// checked where they are used): an OptionError naming the option, before anything starts.

import { OptionError } from './errors.js';
import {
  checkBoolean,
  checkClusterOptions,
  checkDelay,
  checkFunction,
  checkNumber,
  checkObject,
  checkOneOf,
  checkRedisUrl,
  checkString,
} from './option-checks.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const PORT = { integer: true, max: 65_535 } as const;

export function checkServerOptions(options: unknown): void {
  checkObject(options, 'options', true);
  if (options === undefined) return;
  checkNumber(options.port, 'port', PORT);
  checkString(options.host, 'host', { optional: true });
  checkRedisUrl(options.redisUrl === '' ? undefined : options.redisUrl, 'redisUrl');
  checkClusterOptions(options.redisCluster, 'redisCluster');
  if (options.redisUrl && options.redisCluster !== undefined) {
    throw new OptionError('redisCluster', 'and redisUrl exclude each other: give one');
  }
  checkOneOf(options.logLevel, 'logLevel', LOG_LEVELS);
  checkBoolean(options.devAuth, 'devAuth');
  checkBoolean(options.metrics, 'metrics');
  checkString(options.staticDir, 'staticDir', { optional: true });
  checkString(options.instanceId, 'instanceId', { optional: true });
  checkString(options.metricsToken, 'metricsToken', { optional: true });
  checkNumber(options.metricsPort, 'metricsPort', PORT);
  checkDelay(options.redisConnectTimeoutMs, 'redisConnectTimeoutMs', true);
  if (
    options.trustProxy !== undefined &&
    typeof options.trustProxy !== 'boolean' &&
    typeof options.trustProxy !== 'string'
  ) {
    throw new OptionError('trustProxy', 'must be true, false or the proxies’ addresses');
  }
  checkFunction(options.onSocketClose, 'onSocketClose');
}
