// Checks of StatePersistenceService's options: an OptionError naming the option.
import { OptionError } from '../errors.js';
import {
  checkFunction,
  checkLogger,
  checkMethods,
  checkNumber,
  checkObject,
  checkString,
} from '../option-checks.js';

export function checkServiceOptions(options: unknown): void {
  checkObject(options, 'options');
  const given = options as Record<string, unknown>;
  if (given.store === undefined) {
    throw new OptionError('store', 'is required: a StateStore (createStateStore({ redisUrl }))');
  }
  checkMethods(
    given.store,
    'store',
    ['save', 'load', 'delete', 'subscribe', 'close'],
    'a StateStore',
  );
  checkNumber(given.ttlSeconds, 'ttlSeconds', { above: true, integer: true, max: 365 * 86_400 });
  checkNumber(given.maxStateBytes, 'maxStateBytes', {
    above: true,
    integer: true,
    max: 512 * 1024 * 1024,
  });
  checkString(given.defaultOrigin, 'defaultOrigin', { optional: true });
  checkLogger(given.logger);
  checkFunction(given.now, 'now');
  checkNumber(given.maxClockSkewMs, 'maxClockSkewMs', { max: 365 * 86_400_000 });
}
