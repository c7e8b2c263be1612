// What the engine is to its users: the handle `createStatePersistence` returns, its
// snapshot, and what a clear did. Apart from the engine itself so that what only needs
// the contract (the registry, the React hooks, the module-level helpers) imports no logic.
import type { StoreApi } from 'zustand/vanilla';
import type { RemoteDeleteOutcome } from '../server/deletes.js';
import type { SyncStatus } from '../server/status.js';
import type { DashboardStore } from '../store.js';

/** A store the engine can persist: any Zustand store holding the dashboard. */
export type PersistableStore = StoreApi<DashboardStore>;

export interface PersistenceSnapshot {
  /** The stored state (if any) has been loaded and applied. */
  isInitialized: boolean;
  /** Time of the last successful save (localStorage write or server acknowledgement). */
  lastSavedAt: number | null;
  syncStatus: SyncStatus;
}

/**
 * The server side of a clear: what the delete did (`deleted`, `nothing-stored`), that it
 * waits for the socket (`offline-queued`: sent on reconnect while the engine runs), or
 * `disabled` when no server sync runs (none configured, or the engine is not running).
 */
export type ServerClearOutcome = RemoteDeleteOutcome | 'disabled';

/** What `clear()` / `clearPersistedState()` did. The local copies are always cleared. */
export interface ClearResult {
  local: true;
  server: ServerClearOutcome;
}

export interface StatePersistence {
  readonly origin: string;
  readonly storageKey: string;
  /** Loads, applies and starts syncing. Safe to call twice. */
  start(): void;
  /** Writes what is pending, then detaches. Safe to call twice. */
  stop(): void;
  /** Writes now: localStorage (if changed), other tabs, and the server if connected. */
  flush(): void;
  /**
   * Clears storage and store, tells other tabs, and deletes the server copy (queued while
   * offline). Rejects with a `ServerRejectedError` when the server refuses the delete or
   * does not answer in time; the local copies are cleared either way.
   */
  clear(): Promise<ClearResult>;
  getSnapshot(): PersistenceSnapshot;
  /** Calls `listener` whenever the snapshot changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}
