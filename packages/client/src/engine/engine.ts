// The persistence engine: keeps a dashboard store in localStorage, in step with the
// other tabs (BroadcastChannel) and, when configured, with the server (WebSocket).
// Framework-agnostic; React hooks are a thin layer over it (react/use-state-persistence.ts).
//
// Bookkeeping is by reference (content.ts): for each destination (storage, tabs,
// server) the engine remembers which content it already holds, so a change is written
// once per destination, never echoed back where it came from, and a state received
// from elsewhere is told apart from a local change without a flag that could stick.
import {
  BROADCAST_CHANNEL_NAME,
  createInitialDashboardState,
  type DashboardState,
  type MigrationTable,
  migrateDashboardState,
  PERSISTENCE_DEBOUNCE_MS,
  STATE_TTL_MS,
  STORAGE_KEY,
  toPersistableState,
} from '@hyvve/schema';
import type { StoreApi } from 'zustand/vanilla';
import {
  type ContentRefs,
  isEmptyDashboard,
  isNewer,
  refsOf,
  sameContent,
} from '../content/refs.js';
import {
  browserChannelFactory,
  browserLifecycle,
  browserStorage,
  type Lifecycle,
  pageUrl,
  randomOrigin,
} from '../environment.js';
import {
  InvalidPersistedStateError,
  type PersistenceError,
  StorageAccessError,
} from '../errors.js';
import { type PersistenceLogger, resolveLogger } from '../logger.js';
import {
  createServerSync,
  type RemoteDeleteOutcome,
  type ServerSync,
  type ServerSyncOptions,
  type SyncStatus,
} from '../server/sync.js';
import {
  ENVELOPE_FORMAT,
  readEnvelope,
  removeEnvelope,
  type StateStorage,
  type StorageEnvelope,
  writeEnvelope,
} from '../storage/envelope.js';
import { type DashboardStore, selectDashboardState } from '../store.js';
import type { ChannelFactory } from '../tabs/channel.js';
import type { ContentStamp } from '../tabs/delta.js';
import { createTabSync, type TabSync } from '../tabs/sync.js';
import { createDebounce } from '../timing/debounce.js';
import { registerEngine } from './registry.js';

export interface StatePersistenceOptions {
  /** Turns the engine off (it becomes a no-op). @default true */
  enabled?: boolean;
  /** localStorage key of the envelope. @default STORAGE_KEY ('hyvve-dashboard-state') */
  storageKey?: string;
  /** Quiet time before a localStorage write. @default PERSISTENCE_DEBOUNCE_MS (1000) */
  debounceMs?: number;
  /** A steady stream of changes is still written at least this often. @default 5000 */
  maxWaitMs?: number;
  /** Stored state older than this is discarded on load. @default STATE_TTL_MS (24 h) */
  ttlMs?: number;
  /** Sync with other tabs of this browser. @default true */
  enableCrossTabSync?: boolean;
  /** @default BROADCAST_CHANNEL_NAME ('hyvve-dashboard-state-sync') */
  channelName?: string;
  /** Bursts of changes reach other tabs at most this often. @default 16 */
  crossTabIntervalMs?: number;
  /** Live sync with the server; omitted means local only. */
  server?: ServerSyncOptions;
  /** `true` logs structured events to the console; a logger object receives them. @default false */
  debug?: boolean | PersistenceLogger;
  /** Receives every failure. @default logs a warning to the console */
  onError?: (error: PersistenceError) => void;
  /** @default window.localStorage (none on the server: the engine is then a no-op) */
  storage?: StateStorage | null;
  /** @default (name) => new BroadcastChannel(name) */
  createChannel?: ChannelFactory | null;
  /** Page lifecycle events. @default { window, document } */
  lifecycle?: Lifecycle;
  /** @default Date.now */
  now?: () => number;
  /** Id tagging this engine's messages. @default a random UUID */
  origin?: string;
  /** Migrations for stored states of older versions. @default the schema package's table */
  migrations?: MigrationTable;
}

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

const defaults = {
  enabled: true,
  storageKey: STORAGE_KEY,
  debounceMs: PERSISTENCE_DEBOUNCE_MS,
  maxWaitMs: 5000,
  ttlMs: STATE_TTL_MS,
  enableCrossTabSync: true,
  channelName: BROADCAST_CHANNEL_NAME,
  crossTabIntervalMs: 16,
  debug: false,
  now: () => Date.now(),
} satisfies Partial<StatePersistenceOptions>;

const warnToConsole = (error: PersistenceError): void => {
  console.warn('[hyvve-persistence]', error.message);
};

/** A store the engine can persist: any Zustand store holding the dashboard. */
export type PersistableStore = StoreApi<DashboardStore>;

export function createStatePersistence(
  store: PersistableStore,
  options: StatePersistenceOptions = {},
): StatePersistence {
  const o = { ...defaults, ...options };
  const key = o.storageKey;
  if (!o.enabled) return createNoopPersistence(key);
  // `undefined` means "use the browser's"; `null` means "there is none".
  const storage =
    options.storage === undefined
      ? browserStorage((error) =>
          (o.onError ?? warnToConsole)(new StorageAccessError(key, 'read', error)),
        )
      : options.storage;
  if (storage === null) return createNoopPersistence(key);

  const origin = o.origin ?? randomOrigin();
  const now = o.now;
  const logger = resolveLogger(o.debug);
  const onError = o.onError ?? warnToConsole;
  const report = (error: PersistenceError): void => {
    logger.error(error.code, { message: error.message, storageKey: key });
    onError(error);
  };

  let snapshot: PersistenceSnapshot = {
    isInitialized: false,
    lastSavedAt: null,
    syncStatus: o.server ? 'connecting' : 'local-only',
  };
  const listeners = new Set<() => void>();
  const setSnapshot = (patch: Partial<PersistenceSnapshot>): void => {
    const next = { ...snapshot, ...patch };
    if (
      next.isInitialized === snapshot.isInitialized &&
      next.lastSavedAt === snapshot.lastSavedAt &&
      next.syncStatus === snapshot.syncStatus
    ) {
      return;
    }
    snapshot = next;
    for (const listener of listeners) listener();
  };

  // Stamp of the content now in the store: its timestamp at the last persistable change
  // and the engine that made it. Newer-wins compares stamps, not the store's timestamp,
  // which also moves for transient changes (loading, errors).
  let stamp: ContentStamp = { timestamp: store.getState().timestamp, origin };
  // Content last applied from elsewhere: a store change to other content is local.
  let applied: ContentRefs | null = null;
  let inStorage: ContentRefs | null = null;
  // True while the store is empty and untouched: a fresh tab adopts what its peers or the
  // server hold even when their timestamp predates its own creation.
  let pristine = false;
  let phase: 'idle' | 'running' | 'stopped' = 'idle';
  const cleanups: Array<() => void> = [];

  /** The store's content as saved and sent: transient parts reset, content timestamp. */
  const persistable = (state: DashboardStore): DashboardState => ({
    ...toPersistableState(selectDashboardState(state)),
    timestamp: stamp.timestamp,
  });

  const writeStorage = (): void => {
    const state = store.getState();
    if (sameContent(state, inStorage)) return;
    const envelope: StorageEnvelope = {
      format: ENVELOPE_FORMAT,
      state: persistable(state),
      savedAt: now(),
      origin: stamp.origin,
    };
    const revision = serverSync?.revisionFor(refsOf(state));
    if (revision !== undefined) envelope.revision = revision;
    const epoch = revision === undefined ? undefined : serverSync?.epoch();
    if (epoch !== undefined) envelope.epoch = epoch;
    try {
      const length = writeEnvelope(storage, key, envelope);
      inStorage = refsOf(state);
      setSnapshot({ lastSavedAt: envelope.savedAt });
      logger.debug('storage.saved', { storageKey: key, length, timestamp: stamp.timestamp });
    } catch (error) {
      report(error as PersistenceError);
    }
  };
  const storageDebounce = createDebounce(writeStorage, {
    waitMs: o.debounceMs,
    maxWaitMs: o.maxWaitMs,
    now,
  });

  let tabSync: TabSync | null = null;

  /** Puts a state from elsewhere into the store, keeping this tab's transient parts. */
  const apply = (
    state: DashboardState,
    from: ContentStamp,
    heldBy: { storage: boolean; tabs: boolean; server: boolean },
    keepTransient = true,
  ): ContentRefs => {
    const current = store.getState();
    const next = keepTransient
      ? { ...state, loading: current.loading, errors: current.errors }
      : state;
    const refs = refsOf(next);
    applied = refs;
    stamp = from;
    pristine = false;
    if (heldBy.storage) inStorage = refs;
    if (heldBy.tabs) tabSync?.markHeld(refs, from);
    if (heldBy.server) serverSync?.markSynced(refs);
    current.setFullState(next);
    return refs;
  };

  const removeStored = (): void => {
    try {
      removeEnvelope(storage, key);
    } catch (error) {
      report(error as PersistenceError);
    }
  };

  /** Empties storage and store without telling anyone (used by every kind of clear). */
  const clearLocal = (reason: string): ContentRefs => {
    storageDebounce.cancel();
    removeStored();
    const fresh = createInitialDashboardState(
      Math.max(now(), store.getState().timestamp + 1, stamp.timestamp + 1),
    );
    const refs = apply(
      fresh,
      { timestamp: fresh.timestamp, origin },
      { storage: true, tabs: false, server: true },
      false,
    );
    // Every tab clears on its own: none holds this empty state as a base for deltas.
    tabSync?.markHeld(null);
    logger.debug('state.cleared', { storageKey: key, reason });
    return refs;
  };

  const checkState = (raw: unknown, source: string): DashboardState | null => {
    const result = migrateDashboardState(raw, o.migrations);
    if (result.success) return result.data;
    report(new InvalidPersistedStateError(source, result.error.path, result.error.message));
    return null;
  };

  const page = pageUrl();
  const serverSync: ServerSync | null = o.server
    ? createServerSync(o.server, {
        origin,
        logger,
        onError: report,
        ...(o.migrations ? { migrations: o.migrations } : {}),
        ...(page ? { pageUrl: page } : {}),
        host: {
          current: () => {
            const state = store.getState();
            return { state: persistable(state), refs: refsOf(state), origin: stamp.origin };
          },
          // Other tabs of this browser hold their own socket and get the same message;
          // one that does not will ask for the full state when our next delta arrives.
          adopt: (state, from) =>
            apply(
              state,
              { timestamp: state.timestamp, origin: from },
              { storage: false, tabs: true, server: true },
            ),
          // A merge holds this engine's own changes: stored, sent to tabs and saved as one.
          merged: (state) =>
            apply(
              state,
              { timestamp: state.timestamp, origin },
              { storage: false, tabs: false, server: false },
            ),
          remoteDeleted: () => clearLocal('deleted on another device'),
          status: (syncStatus) => setSnapshot({ syncStatus }),
          saved: (savedAt) => setSnapshot({ lastSavedAt: savedAt }),
        },
      })
    : null;

  const onStoreChange = (state: DashboardStore, prev: DashboardStore): void => {
    if (sameContent(state, prev)) return; // loading/errors only: nothing to persist
    if (!sameContent(state, applied)) {
      stamp = { timestamp: state.timestamp, origin };
      pristine = false;
    }
    if (!sameContent(state, inStorage)) storageDebounce.schedule();
    tabSync?.notifyChange();
    serverSync?.notifyChange();
  };

  // Loaded from the storage the tabs share: they hold it too, so deltas can build on it.
  let heldByTabsAfterLoad: { refs: ContentRefs; stamp: ContentStamp } | null = null;
  const load = (): void => {
    const result = readEnvelope(storage, key, {
      ttlMs: o.ttlMs,
      now: now(),
      ...(o.migrations ? { migrations: o.migrations } : {}),
    });
    const current = store.getState();
    switch (result.kind) {
      case 'empty':
        logger.debug('storage.empty', { storageKey: key });
        break;
      case 'unreadable':
        report(result.error);
        break;
      case 'invalid':
        report(result.error);
        removeStored();
        break;
      case 'stale':
        logger.debug('storage.stale_discarded', { storageKey: key, ageMs: result.ageMs });
        removeStored();
        break;
      case 'loaded': {
        const { state, origin: storedOrigin = '', revision, epoch } = result.envelope;
        const storedStamp = { timestamp: state.timestamp, origin: storedOrigin };
        // A state set before hydration finished is kept when it is newer than the stored one.
        if (isEmptyDashboard(current) || isNewer(storedStamp, stamp)) {
          // Other tabs share this storage, so they hold it too. Without a revision the
          // stored state may never have reached the server: it stays unsynced (pushed).
          const refs = apply(state, storedStamp, { storage: true, tabs: false, server: false });
          heldByTabsAfterLoad = { refs, stamp: storedStamp };
          // The epoch makes a `ready` after the store lost its data (same revision numbers,
          // other contents) recognisable across a reload.
          if (revision !== undefined) serverSync?.markSynced(refs, revision, epoch);
          logger.debug('storage.loaded', {
            storageKey: key,
            timestamp: state.timestamp,
            revision,
          });
          return;
        }
        logger.debug('storage.kept_newer_local', {
          storageKey: key,
          stored: state.timestamp,
          local: stamp.timestamp,
        });
        break;
      }
    }
    // Nothing applied: an empty store has nothing worth saving yet, anything else does.
    if (isEmptyDashboard(current)) {
      pristine = true;
      inStorage = refsOf(current);
      serverSync?.markSynced(refsOf(current));
    }
  };
  const lifecycle: Lifecycle = o.lifecycle ?? browserLifecycle();
  // Closing a tab inside the debounce must lose nothing: `pagehide` is the last reliable
  // event, and a page hidden on mobile may be killed without one.
  const onPageHide = (): void => flush();
  const onVisibility = (): void => {
    if (lifecycle.document?.visibilityState === 'hidden') flush();
  };
  const onOnline = (): void => serverSync?.reconnectNow();

  function flush(): void {
    if (phase !== 'running') return;
    storageDebounce.cancel();
    writeStorage();
    tabSync?.flush();
    serverSync?.flush();
  }

  const openTabSync = (): void => {
    const createChannel =
      options.createChannel === undefined ? browserChannelFactory() : options.createChannel;
    if (!o.enableCrossTabSync || !createChannel) return;
    tabSync = createTabSync({
      channelName: o.channelName,
      storageKey: key,
      origin,
      createChannel,
      intervalMs: o.crossTabIntervalMs,
      now,
      logger,
      onError: report,
      host: {
        current: () => {
          const state = store.getState();
          return { state: persistable(state), refs: refsOf(state), stamp };
        },
        isPristine: () => pristine,
        check: (raw) => checkState(raw, 'another tab'),
        // The sending tab writes the shared storage and saves to the server itself.
        adopt: (state, from) => apply(state, from, { storage: true, tabs: false, server: true }),
        // A merge is this tab's own change, stamped newer than both sides it holds.
        merged: (state) => {
          const timestamp = Math.max(now(), stamp.timestamp + 1, state.timestamp + 1);
          return apply(
            { ...state, timestamp },
            { timestamp, origin },
            { storage: false, tabs: false, server: false },
          );
        },
        cleared: (from) => {
          clearLocal(`cleared in tab ${from}`);
        },
      },
    });
    if (heldByTabsAfterLoad) tabSync?.markHeld(heldByTabsAfterLoad.refs, heldByTabsAfterLoad.stamp);
    tabSync?.hello();
  };

  const engine: StatePersistence = {
    origin,
    storageKey: key,
    start() {
      if (phase !== 'idle') return;
      phase = 'running';
      // The store may have changed since the engine was created (set before hydration).
      stamp = { timestamp: store.getState().timestamp, origin };
      load();
      cleanups.push(store.subscribe(onStoreChange));
      openTabSync();
      // Local content from before start (e.g. set before hydration) still needs saving.
      const state = store.getState();
      if (!sameContent(state, inStorage)) storageDebounce.schedule();
      if (!pristine && !heldByTabsAfterLoad) tabSync?.notifyChange();

      const win = lifecycle.window;
      if (win) {
        win.addEventListener('pagehide', onPageHide);
        win.addEventListener('online', onOnline);
        cleanups.push(() => {
          win.removeEventListener('pagehide', onPageHide);
          win.removeEventListener('online', onOnline);
        });
      }
      const doc = lifecycle.document;
      if (doc) {
        doc.addEventListener('visibilitychange', onVisibility);
        cleanups.push(() => doc.removeEventListener('visibilitychange', onVisibility));
      }
      cleanups.push(registerEngine(engine));
      setSnapshot({ isInitialized: true });
      serverSync?.start();
    },
    stop() {
      if (phase !== 'running') {
        phase = 'stopped';
        return;
      }
      flush();
      phase = 'stopped';
      storageDebounce.cancel();
      serverSync?.stop();
      tabSync?.close();
      tabSync = null;
      for (const cleanup of cleanups.splice(0)) cleanup();
      listeners.clear();
    },
    flush,
    async clear() {
      if (phase !== 'running') {
        removeStored();
        return { local: true, server: 'disabled' };
      }
      clearLocal('clearPersistedState');
      tabSync?.postClear();
      if (!serverSync) return { local: true, server: 'disabled' };
      return { local: true, server: await serverSync.deleteRemote() };
    },
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return engine;
}

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
    getSnapshot: () => snapshot,
    subscribe: () => () => {},
  };
}
