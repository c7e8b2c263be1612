// The persistence engine: keeps a dashboard store in localStorage, in step with the
// other tabs (BroadcastChannel) and, when configured, with the server (WebSocket).
// Framework-agnostic; React hooks are a thin layer over it (react/use-state-persistence.ts).
//
// Storage, tabs and server are three destinations behind one contract (destination.ts):
// the engine tells each that the content changed, to write what is pending, or that it
// holds some content already; each reads the store's content through one `LocalContent`.
// Bookkeeping is by reference (content/refs.ts): each destination remembers which content
// it holds, so a change is written once per destination, never echoed back where it came
// from, and a state received from elsewhere is told apart from a local change without a
// flag that could stick.
//
// Copies are owned (content/owner.ts, owner-source.ts): storage and tabs carry the owner,
// and a token naming another person while the engine runs replaces this browser's copies
// with that person's (their server copy is loaded, never overwritten). Sign-out (`clear`)
// is local; deleting the server copy is the separate `resetServerCopy`.
import {
  createInitialDashboardState,
  type DashboardState,
  toPersistableState,
} from '@hyvve/schema';
import { checkState } from '../content/check.js';
import { describeOwner, type Owner, sameOwner } from '../content/owner.js';
import { type ContentRefs, isEmptyDashboard, refsOf, sameContent } from '../content/refs.js';
import { type ContentStamp, timestampAfter } from '../content/stamp.js';
import {
  browserChannelFactory,
  browserLifecycle,
  browserLocks,
  browserStorage,
  type Lifecycle,
  pageUrl,
  randomOrigin,
} from '../environment.js';
import { type PersistenceError, StorageAccessError } from '../errors.js';
import { resolveLogger } from '../logger.js';
import { createServerSync, type ServerSync } from '../server/sync.js';
import { createStorageWriter } from '../storage/writer.js';
import { type DashboardStore, selectDashboardState } from '../store.js';
import type { ClearScope } from '../tabs/channel.js';
import { createTabSync, type TabSync } from '../tabs/sync.js';
import {
  type CurrentContent,
  type Destination,
  forwardTo,
  type LocalContent,
} from './destination.js';
import { loadStored } from './load.js';
import { createNoopPersistence } from './noop.js';
import { resolveOptions, type StatePersistenceOptions } from './options.js';
import { createOwnerSource } from './owner-source.js';
import { registerEngine } from './registry.js';
import { createServerSlot, type ServerSlot } from './server-slot.js';
import { createSnapshotStore } from './snapshot.js';
import { markStoreOwner, storeOwner } from './store-owner.js';
import type { ClearResult, PersistableStore, StatePersistence } from './types.js';

export function createStatePersistence(
  store: PersistableStore,
  options: StatePersistenceOptions = {},
): StatePersistence {
  const o = resolveOptions(options);
  const key = o.storageKey;
  if (!o.enabled) return createNoopPersistence(key);
  // `undefined` means "use the browser's"; `null` means "there is none".
  const storage =
    options.storage === undefined
      ? browserStorage((error) => o.onError(new StorageAccessError(key, 'read', error)))
      : options.storage;
  if (storage === null) return createNoopPersistence(key);

  const origin = o.origin ?? randomOrigin();
  const now = o.now;
  const logger = resolveLogger(o.debug);
  const report = (error: PersistenceError): void => {
    logger.error(error.code, { message: error.message, storageKey: key });
    o.onError(error);
  };
  const snapshot = createSnapshotStore({
    isInitialized: false,
    lastSavedAt: null,
    syncStatus: o.server ? 'connecting' : 'local-only',
  });

  // Stamp of the content now in the store: its timestamp at the last persistable change
  // and the engine that made it. Newer-wins compares stamps, not the store's timestamp,
  // which also moves for transient changes (loading, errors).
  let stamp: ContentStamp = { timestamp: store.getState().timestamp, origin };
  // Content last applied from elsewhere: a store change to other content is local.
  let applied: ContentRefs | null = null;
  // True while the store is empty and untouched: a fresh tab adopts what its peers or the
  // server hold even when their timestamp predates its own creation.
  let pristine = false;
  let phase: 'idle' | 'running' | 'stopped' = 'idle';
  /** The owner is known and the stored copy loaded: the destinations are live. */
  let begun = false;
  const cleanups: Array<() => void> = [];
  const owners = createOwnerSource({
    explicit: options.owner,
    getToken: o.server?.getToken,
    backoff: o.server?.reconnect ?? {},
    logger,
    onError: report,
    onSwitch: (next, previous) => switchOwner(next, previous),
  });

  /** The store's content as saved and sent: transient parts reset, content timestamp. */
  const current = (): CurrentContent => {
    const state = store.getState();
    return {
      state: { ...toPersistableState(selectDashboardState(state)), timestamp: stamp.timestamp },
      refs: refsOf(state),
      stamp,
    };
  };

  const storageWriter = createStorageWriter({
    storage,
    storageKey: key,
    debounceMs: o.debounceMs,
    maxWaitMs: o.maxWaitMs,
    now,
    refs: () => refsOf(store.getState()),
    current,
    owner: () => owners.current(),
    serverCopyOf: (refs) => serverSync()?.serverCopyOf(refs),
    onSaved: (savedAt) => snapshot.set({ lastSavedAt: savedAt }),
    logger,
    report,
  });
  let tabSync: TabSync | null = null;
  // Stand-ins for destinations that may not exist (yet): the tabs open on start.
  const tabs = forwardTo(() => tabSync);
  // The slot is made below: its syncs need the engine's content, which needs this.
  let slot: ServerSlot | null = null;
  const server = forwardTo(() => slot);
  const serverSync = (): ServerSync | null => slot?.current() ?? null;
  const destinations: readonly Destination[] = [storageWriter, tabs, server];

  /**
   * Puts a state from elsewhere into the store, keeping this tab's transient parts;
   * `heldBy` are the destinations that hold it already (nothing is written to them).
   */
  const apply = (
    state: DashboardState,
    from: ContentStamp,
    heldBy: readonly Destination[],
    keepTransient = true,
  ): ContentRefs => {
    const currentState = store.getState();
    const next = keepTransient
      ? { ...state, loading: currentState.loading, errors: currentState.errors }
      : state;
    const refs = refsOf(next);
    applied = refs;
    stamp = from;
    pristine = false;
    for (const destination of heldBy) destination.hold(refs, from);
    currentState.setFullState(next);
    return refs;
  };

  /** Empties storage and store without telling anyone (used by every kind of clear). */
  const clearLocal = (reason: string): ContentRefs => {
    storageWriter.cancel();
    storageWriter.remove();
    // Newer than what the store and every copy of it hold, so every tab takes the clear.
    const fresh = createInitialDashboardState(
      timestampAfter(now(), store.getState().timestamp, stamp.timestamp),
    );
    const refs = apply(
      fresh,
      { timestamp: fresh.timestamp, origin },
      [storageWriter, server],
      false,
    );
    // Every tab clears on its own: none holds this empty state as a base for deltas.
    tabSync?.forget();
    logger.debug('state.cleared', { storageKey: key, reason });
    return refs;
  };

  /** The store's content as a destination sees it; `heldBy` names who holds what it adopts. */
  const localContent = (adoptHeldBy: readonly Destination[]): LocalContent => ({
    current,
    isPristine: () => pristine,
    check: (raw, source) => checkState(raw, source, o.migrations, report),
    adopt: (state, from) => apply(state, from, adoptHeldBy),
    // A merge holds this engine's own changes: stored, sent to tabs and saved like an edit.
    merged: (state) => apply(state, { timestamp: state.timestamp, origin }, []),
    cleared: clearLocal,
  });

  const page = pageUrl();
  const createChannel =
    options.createChannel === undefined ? browserChannelFactory() : options.createChannel;
  const locks = o.server?.locks === undefined ? browserLocks() : o.server.locks;
  // One socket per browser, server and owner (tabs/leader.ts); without locks, one per tab.
  const owner = (): string => describeOwner(owners.current());
  const share = o.server?.shareConnection !== false && locks && createChannel;
  const serverSlot = createServerSlot({
    onStatus: (syncStatus) => snapshot.set({ syncStatus }),
    // Every token goes through `owners`, which notices another person's.
    create: (isLive) =>
      o.server
        ? createServerSync(
            { ...o.server, getToken: owners.getToken },
            {
              origin,
              logger,
              onError: report,
              // A sync let go (sign-out, another owner) has no say in the status any more.
              onStatus: (syncStatus) => isLive() && snapshot.set({ syncStatus }),
              onSaved: (savedAt) => isLive() && snapshot.set({ lastSavedAt: savedAt }),
              migrations: o.migrations,
              pageUrl: page,
              share: share ? { locks, createChannel, owner } : undefined,
              // Every tab of this browser gets the same message (on its socket, or relayed
              // by the leader's); one that does not asks for the full state on our next delta.
              local: localContent([tabs, server]),
            },
          )
        : null,
  });

  slot = serverSlot;

  /** Sign-out: this browser's copies go, the server copy stays, nothing more is sent. */
  const signOutLocally = (reason: string): void => {
    serverSlot.detach();
    clearLocal(reason);
  };

  /**
   * A token names another person than the one whose copies this browser holds (a sign-in
   * in place): the previous owner's sync goes (a save it had pending goes to that owner's
   * copy, on that owner's socket if it is still open), this browser's copies of them are
   * discarded, and a fresh sync loads the new owner's server copy, never overwriting it.
   */
  function switchOwner(next: Owner, previous: Owner | null): void {
    if (!begun) return;
    logger.warn('owner.local_copies_discarded', {
      storageKey: key,
      previous: describeOwner(previous),
      owner: describeOwner(next),
    });
    serverSlot.replace(false);
    // As on a first start with nothing stored: the next content from anywhere is taken.
    clearLocal('owner changed');
    markStoreOwner(store, next);
    pristine = true;
    snapshot.set({ syncStatus: 'connecting' });
    serverSync()?.start();
  }

  const onStoreChange = (state: DashboardStore, prev: DashboardStore): void => {
    if (sameContent(state, prev)) return; // loading/errors only: nothing to persist
    if (!sameContent(state, applied)) {
      stamp = { timestamp: state.timestamp, origin };
      pristine = false;
      // Still signed in after a local clear: sync again, merging with the server copy.
      if (serverSlot.isDetached()) serverSlot.attach();
    }
    for (const destination of destinations) destination.notifyChange();
  };

  // Loaded from the storage the tabs share: they hold it too, so deltas can build on it.
  let heldByTabsAfterLoad: { refs: ContentRefs; stamp: ContentStamp } | null = null;
  const load = (): void => {
    const state = store.getState();
    const stored = loadStored({
      storage,
      storageKey: key,
      ttlMs: o.ttlMs,
      now: now(),
      migrations: o.migrations,
      owner: owners.current(),
      local: { state, stamp },
      remove: () => storageWriter.remove(),
      logger,
      report,
    });
    if (stored) {
      // Without a revision the stored state may never have reached the server: it stays
      // unsynced (pushed). The epoch makes a `ready` after the store lost its data (same
      // revision numbers, other contents) recognisable across a reload.
      const refs = apply(stored.state, stored.stamp, [storageWriter]);
      heldByTabsAfterLoad = { refs, stamp: stored.stamp };
      if (stored.revision !== undefined) {
        serverSync()?.markStored(refs, stored.revision, stored.epoch);
      }
      logger.debug('storage.loaded', {
        storageKey: key,
        timestamp: stored.state.timestamp,
        revision: stored.revision,
      });
      return;
    }
    // Nothing applied: an empty store has nothing worth saving yet, anything else does.
    if (isEmptyDashboard(state)) {
      pristine = true;
      storageWriter.hold(refsOf(state), stamp);
      server.hold(refsOf(state), stamp);
    }
  };
  const lifecycle: Lifecycle = o.lifecycle ?? browserLifecycle();
  // Closing a tab inside the debounce must lose nothing: `pagehide` is the last reliable
  // event, and a page hidden on mobile may be killed without one.
  const onPageHide = (): void => flush();
  const onVisibility = (): void => {
    if (lifecycle.document?.visibilityState === 'hidden') flush();
  };
  const onOnline = (): void => serverSync()?.reconnectNow();

  function flush(): void {
    if (phase !== 'running' || !begun) return;
    for (const destination of destinations) destination.flush();
  }

  const openTabSync = (): void => {
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
      owner: () => owners.current(),
      onClear: (from, scope) => onTabClear(from, scope),
      // The sending tab writes the shared storage and saves to the server itself.
      host: localContent([storageWriter, server]),
    });
    if (heldByTabsAfterLoad) tabSync?.hold(heldByTabsAfterLoad.refs, heldByTabsAfterLoad.stamp);
    tabSync?.hello();
  };

  /** Another tab cleared: sign-out clears here too; a reset also means the server copy goes. */
  const onTabClear = (from: string, scope: ClearScope): void => {
    if (scope === 'local') signOutLocally(`signed out in tab ${from}`);
    else clearLocal(`reset in tab ${from}`);
  };

  const listenToPage = (): void => {
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
  };

  /** Once the owner is known: loads its copy and starts every destination. */
  const begin = (): void => {
    if (phase !== 'running' || begun) return;
    begun = true;
    const owner = owners.current();
    const held = storeOwner(store);
    if (held !== undefined && !sameOwner(held, owner)) {
      // The store still shows the previous person's dashboard: never this owner's content.
      logger.warn('owner.store_emptied', {
        held: describeOwner(held),
        owner: describeOwner(owner),
      });
      store.getState().setFullState(createInitialDashboardState(now()));
    }
    markStoreOwner(store, owner);
    // The store may have changed since the engine was created (set before hydration).
    stamp = { timestamp: store.getState().timestamp, origin };
    load();
    cleanups.push(store.subscribe(onStoreChange));
    openTabSync();
    // Local content from before start (e.g. set before hydration) still needs saving.
    storageWriter.notifyChange();
    if (!pristine && !heldByTabsAfterLoad) tabSync?.notifyChange();
    listenToPage();
    cleanups.push(registerEngine(engine));
    snapshot.set({ isInitialized: true });
    serverSync()?.start();
  };

  const localOnly = (): ClearResult => ({ local: true, server: o.server ? 'kept' : 'disabled' });

  const engine: StatePersistence = {
    origin,
    storageKey: key,
    start() {
      if (phase !== 'idle') return;
      phase = 'running';
      owners.resolve(begin);
    },
    stop() {
      owners.stop();
      if (phase !== 'running' || !begun) {
        phase = 'stopped';
        return;
      }
      flush();
      phase = 'stopped';
      storageWriter.cancel();
      serverSync()?.stop();
      tabSync?.close();
      tabSync = null;
      for (const cleanup of cleanups.splice(0)) cleanup();
      snapshot.clearListeners();
    },
    flush,
    async clear(clearOptions = {}) {
      if (clearOptions.server) return engine.resetServerCopy();
      if (phase !== 'running' || !begun) {
        storageWriter.remove();
        return localOnly();
      }
      signOutLocally('clearPersistedState');
      tabSync?.postClear('local');
      return localOnly();
    },
    async resetServerCopy() {
      if (phase !== 'running' || !begun) {
        storageWriter.remove();
        return { local: true, server: 'disabled' };
      }
      serverSlot.attach();
      clearLocal('resetServerCopy');
      tabSync?.postClear('everywhere');
      const sync = serverSync();
      return { local: true, server: sync ? await sync.deleteRemote() : 'disabled' };
    },
    getSnapshot: () => snapshot.get(),
    subscribe: (listener) => snapshot.subscribe(listener),
  };
  return engine;
}
