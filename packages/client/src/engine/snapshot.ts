// The engine's snapshot (`isInitialized`, `lastSavedAt`, `syncStatus`) and its
// listeners: a new snapshot object only when a field really changed, so React's
// `useSyncExternalStore` re-renders only then.
import type { PersistenceSnapshot } from './types.js';

export interface SnapshotStore {
  get(): PersistenceSnapshot;
  /** Merges `changes`; notifies the listeners when a field changed. */
  set(changes: Partial<PersistenceSnapshot>): void;
  /** Returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  clearListeners(): void;
}

export function createSnapshotStore(initial: PersistenceSnapshot): SnapshotStore {
  let snapshot = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => snapshot,
    set(changes) {
      const next = { ...snapshot, ...changes };
      if (
        next.isInitialized === snapshot.isInitialized &&
        next.lastSavedAt === snapshot.lastSavedAt &&
        next.syncStatus === snapshot.syncStatus
      ) {
        return;
      }
      snapshot = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clearListeners: () => listeners.clear(),
  };
}
