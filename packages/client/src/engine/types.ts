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
 * What became of the server copy: `kept` (a local clear, i.e. sign-out: the server copy
 * is untouched, for the person's other devices); after `resetServerCopy()` / `clear({
 * server: true })`, what the delete did (`deleted`, `nothing-stored`) or that it waits for
 * the socket (`offline-queued`: sent on reconnect while the engine runs); `disabled` when
 * no server sync runs (none configured, or the engine is not running).
 */
export type ServerClearOutcome = RemoteDeleteOutcome | 'kept' | 'disabled';

/** What `clear()` / `clearPersistedState()` / `resetServerCopy()` did. */
export interface ClearResult {
  /** This browser's copies (storage, store, other tabs, pending saves) are always cleared. */
  local: true;
  server: ServerClearOutcome;
}

export interface ClearOptions {
  /**
   * Also delete the server copy, on every device ("reset my dashboard"), as
   * `resetServerCopy()` does. @default false: sign-out keeps it
   */
  server?: boolean;
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
   * Sign-out's clean-up, local only: empties storage and store, tells the other tabs of
   * this browser (they clear too), and stops syncing with the server, after sending a
   * save still pending to it; the server copy is kept for the person's other devices.
   * A later local change starts a fresh sync that merges with the server copy (the same
   * person still signed in). `{ server: true }` is `resetServerCopy()`.
   */
  clear(options?: ClearOptions): Promise<ClearResult>;
  /**
   * "Reset my dashboard": clears this browser's copies like `clear()` and deletes the
   * server copy, so every device of the person starts empty (queued while offline). Keeps
   * syncing. Rejects with a `ServerRejectedError` when the server refuses the delete or
   * does not answer in time; the local copies are cleared either way.
   */
  resetServerCopy(): Promise<ClearResult>;
  getSnapshot(): PersistenceSnapshot;
  /** Calls `listener` whenever the snapshot changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}
