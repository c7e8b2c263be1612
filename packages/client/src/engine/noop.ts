// The engine where there is nothing to persist to (SSR, disabled, storage blocked): the
// same handle, doing nothing, so callers need no `if`s.
import { STORAGE_KEY } from '@hyvve/schema';
import type { PersistenceSnapshot, StatePersistence } from './types.js';

/** The engine where there is nothing to persist to (SSR, disabled, storage blocked). */
export function createNoopPersistence(storageKey: string = STORAGE_KEY): StatePersistence {
  const snapshot: PersistenceSnapshot = {
    isInitialized: false,
    lastSavedAt: null,
    syncStatus: 'local-only',
  };
  return {
    origin: 'noop',
    storageKey,
    start() {},
    stop() {},
    flush() {},
    clear: () => Promise.resolve({ local: true, server: 'disabled' }),
    resetServerCopy: () => Promise.resolve({ local: true, server: 'disabled' }),
    getSnapshot: () => snapshot,
    subscribe: () => () => {},
  };
}
