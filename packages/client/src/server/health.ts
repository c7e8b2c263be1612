// Whether the last exchange with the server worked, and the retry after one that did not.
// A failure is reported to `onError` once per run of failures (not once per retry); the
// retry waits with backoff and then asks the engine to reconcile again. `succeed` ends
// the run, reports `synced` and resets the backoff.

import type { PersistenceError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { type BackoffOptions, backoffDelay } from '../timing/backoff.js';

export interface SyncHealthOptions {
  backoff: BackoffOptions;
  logger: PersistenceLogger;
  onError: (error: PersistenceError) => void;
  /** Reports `synced` or `error` (the engine's status). */
  report: (status: 'synced' | 'error') => void;
  /** What a scheduled retry runs. */
  retry: () => void;
}

export interface SyncHealth {
  /** The server took what we had: reports `synced`, ends a run of failures. */
  succeed(): void;
  /** Reports `error` (and the error, once per run); with `retry`, schedules one retry. */
  fail(error: PersistenceError, retry: boolean): void;
  /** Cancels a scheduled retry. */
  stop(): void;
}

export function createSyncHealth(options: SyncHealthOptions): SyncHealth {
  const { backoff, logger } = options;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAttempt = 0;
  let failureReported = false;

  const cancelRetry = (): void => {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  return {
    succeed() {
      retryAttempt = 0;
      failureReported = false;
      cancelRetry();
      options.report('synced');
    },
    fail(error, retry) {
      if (!failureReported) options.onError(error);
      failureReported = true;
      options.report('error');
      if (!retry || retryTimer !== undefined) return;
      const delay = backoffDelay(retryAttempt++, backoff);
      logger.debug('server.retry_scheduled', { delayMs: delay });
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        options.retry();
      }, delay);
    },
    stop: cancelRetry,
  };
}
