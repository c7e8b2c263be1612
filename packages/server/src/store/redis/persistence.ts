// Whether the Redis in use keeps data across a restart (AOF or RDB snapshots). Killed
// with both off, every stored state is gone and revisions start again: so the server
// says so loudly at start. Managed Redis often refuses CONFIG: that is said quietly.
import { errorMessage, type Logger } from '../../logger.js';

export interface RedisPersistence {
  /** `appendonly yes`: every write is logged (the setting the README recommends). */
  aof: boolean;
  /** A non-empty `save` schedule: periodic snapshots (writes since the last one are lost). */
  rdb: boolean;
}

/** The part of an ioredis client used here. */
export interface ConfigReader {
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
}

/** The value of a `CONFIG GET <name>` reply (`[name, value]`), or undefined. */
function configValue(reply: unknown, name: string): string | undefined {
  if (!Array.isArray(reply)) return undefined;
  const index = reply.indexOf(name);
  const value = index >= 0 ? reply[index + 1] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Reads `appendonly` and `save`; throws when CONFIG is refused or the reply is not understood. */
export async function readRedisPersistence(redis: ConfigReader): Promise<RedisPersistence> {
  const [appendonly, save] = await Promise.all([
    redis.config('GET', 'appendonly'),
    redis.config('GET', 'save'),
  ]);
  const aof = configValue(appendonly, 'appendonly');
  const schedule = configValue(save, 'save');
  if (aof === undefined || schedule === undefined) {
    throw new Error('CONFIG GET appendonly/save gave no value (renamed or filtered command?)');
  }
  return { aof: aof === 'yes', rdb: schedule.trim() !== '' };
}

/**
 * Logs a warning when Redis persists nothing, info when it cannot be told. Never throws:
 * the answer is advice, not a reason to stop. Resolves with what it found (null: unknown).
 */
export async function warnIfRedisNotPersistent(
  read: () => Promise<RedisPersistence>,
  logger: Logger,
): Promise<RedisPersistence | null> {
  let persistence: RedisPersistence;
  try {
    persistence = await read();
  } catch (error) {
    logger.info(
      { err: errorMessage(error) },
      'could not read the Redis persistence settings (CONFIG GET refused?); make sure appendonly is yes',
    );
    return null;
  }
  if (!persistence.aof && !persistence.rdb) {
    logger.warn(
      { appendonly: 'no', save: '' },
      'REDIS PERSISTS NOTHING (appendonly no, save ""): a Redis restart loses every stored state and revisions restart; set appendonly yes',
    );
  } else if (!persistence.aof) {
    logger.info(
      { appendonly: 'no' },
      'Redis persists by RDB snapshots only: a crash loses the saves since the last snapshot; appendonly yes is recommended',
    );
  }
  return persistence;
}
