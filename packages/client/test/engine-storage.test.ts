import { STATE_TTL_MS, STATE_VERSION } from '@hyvve/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createDashboardStore,
  createStatePersistence,
  InvalidPersistedStateError,
  type PersistenceError,
  type StatePersistenceOptions,
  StateTooLargeError,
  StorageAccessError,
  StorageQuotaError,
  selectDashboardState,
} from './support/client.js';
import { BrokenStorage, fakeLifecycle, QuotaStorage, SpyStorage } from './support/fakes.js';

const KEY = 'engine-storage-test';

function envelopeOf(state: ReturnType<typeof makeState>, savedAt = state.timestamp): string {
  return JSON.stringify({ format: 1, state, savedAt });
}

function setup(options: StatePersistenceOptions = {}, storage = new SpyStorage()) {
  const store = createDashboardStore();
  const errors: PersistenceError[] = [];
  const lifecycle = fakeLifecycle();
  const engine = createStatePersistence(store, {
    storageKey: KEY,
    storage,
    createChannel: null,
    lifecycle,
    onError: (error) => errors.push(error),
    ...options,
  });
  return { store, storage, engine, errors, lifecycle };
}

describe('persistence engine: localStorage', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('loads the stored state on start and applies it', () => {
    const stored = makeState({ timestamp: Date.now() - 1000, activeProject: 'proj-stored' });
    const storage = new SpyStorage();
    storage.setItem(KEY, envelopeOf(stored));
    const { store, engine } = setup({}, storage);
    expect(engine.getSnapshot().isInitialized).toBe(false);
    engine.start();
    expect(selectDashboardState(store.getState())).toEqual(stored);
    expect(engine.getSnapshot().isInitialized).toBe(true);
    engine.stop();
  });

  it('saves after the debounce, not before', () => {
    const { store, storage, engine } = setup();
    engine.start();
    store.getState().setActiveProject('proj-1');
    vi.advanceTimersByTime(999);
    expect(storage.writes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(storage.writes).toHaveLength(1);
    expect(storage.envelope(KEY)?.state.activeProject).toBe('proj-1');
    expect(engine.getSnapshot().lastSavedAt).toBe(Date.now());
    engine.stop();
  });

  it('writes the last change of a burst', () => {
    const { store, storage, engine } = setup();
    engine.start();
    for (let i = 0; i < 50; i++) {
      store.getState().setActiveProject(`proj-${i}`);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(1000);
    expect(storage.writes).toHaveLength(1);
    expect(storage.envelope(KEY)?.state.activeProject).toBe('proj-49');
    engine.stop();
  });

  it('still saves during a steady stream of changes, at the max wait', () => {
    const { store, storage, engine } = setup({ debounceMs: 1000, maxWaitMs: 3000 });
    engine.start();
    for (let i = 0; i < 70; i++) {
      store.getState().setActiveProject(`proj-${i}`);
      vi.advanceTimersByTime(100);
    }
    // 7 s of changes every 100 ms: written at 3 s and 6 s, never waiting for a quiet second.
    expect(storage.writes).toHaveLength(2);
    engine.stop();
  });

  it('writes at most 3 times for 1,000 updates of a 100 KB state in one second', () => {
    const { store, storage, engine } = setup();
    store.getState().setFullState(makeState({ targetBytes: 100_000 }));
    engine.start();
    for (let i = 0; i < 1000; i++) {
      store.getState().setMetrics({
        title: 'Key Metrics',
        metrics: [{ id: 'm', label: 'count', value: i }],
        lastUpdated: Date.now(),
      });
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(5000);
    expect(storage.writes.length).toBeGreaterThanOrEqual(1);
    expect(storage.writes.length).toBeLessThanOrEqual(3);
    expect(storage.envelope(KEY)?.state).toMatchObject({
      widgets: { metrics: { metrics: [{ value: 999 }] } },
    });
    engine.stop();
  });

  it('skips the write when only loading or errors changed', () => {
    const { store, storage, engine } = setup();
    engine.start();
    store.getState().setActiveProject('p');
    vi.advanceTimersByTime(1000);
    expect(storage.writes).toHaveLength(1);
    store.getState().setLoading(true, ['agent-a']);
    store.getState().setError('agent-a', 'failed');
    vi.advanceTimersByTime(5000);
    engine.flush();
    expect(storage.writes).toHaveLength(1);
    engine.stop();
  });

  it('never persists loading or errors', () => {
    const { store, storage, engine } = setup();
    engine.start();
    store.getState().setLoading(true, ['agent-a']);
    store.getState().setError('agent-a', 'failed');
    store.getState().setActiveProject('p');
    vi.advanceTimersByTime(1000);
    const saved = storage.envelope(KEY)?.state;
    expect(saved?.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(saved?.errors).toEqual({});
    expect(store.getState().loading.isLoading).toBe(true);
    engine.stop();
  });

  it('keeps this tab’s loading and errors when a stored state is applied', () => {
    const storage = new SpyStorage();
    storage.setItem(KEY, envelopeOf(makeState({ timestamp: Date.now() - 10 })));
    const { store, engine } = setup({}, storage);
    store.getState().setLoading(true, ['agent-a']);
    store.getState().setLoading(true, ['agent-a']);
    engine.start();
    expect(store.getState().loading.loadingAgents).toEqual(['agent-a']);
    engine.stop();
  });

  it('discards and removes a state older than the TTL', () => {
    const stale = makeState({ timestamp: Date.now() - STATE_TTL_MS - 1000, activeProject: 'old' });
    const storage = new SpyStorage();
    storage.setItem(KEY, envelopeOf(stale));
    const { store, engine, errors } = setup({}, storage);
    engine.start();
    expect(store.getState().activeProject).toBeNull();
    expect(storage.data.has(KEY)).toBe(false);
    expect(errors).toEqual([]);
    engine.stop();
  });

  it('honours a custom TTL', () => {
    const storage = new SpyStorage();
    storage.setItem(KEY, envelopeOf(makeState({ activeProject: 'x' }), Date.now() - 2000));
    const { store, engine } = setup({ ttlMs: 1000 }, storage);
    engine.start();
    expect(store.getState().activeProject).toBeNull();
    engine.stop();
  });

  it('discards invalid JSON without crashing and reports it', () => {
    const storage = new SpyStorage();
    storage.setItem(KEY, '{"format":1,"state":');
    const { store, engine, errors } = setup({}, storage);
    engine.start();
    expect(store.getState().activeProject).toBeNull();
    expect(storage.data.has(KEY)).toBe(false);
    expect(errors[0]).toBeInstanceOf(InvalidPersistedStateError);
    engine.stop();
  });

  it('discards wrong-shape data and names the failing path', () => {
    const bad = {
      ...makeState(),
      widgets: { ...makeState().widgets, alerts: [{ id: 'a', type: 'nope' }] },
    };
    const storage = new SpyStorage();
    storage.setItem(KEY, JSON.stringify({ format: 1, state: bad, savedAt: Date.now() }));
    const { store, engine, errors } = setup({}, storage);
    engine.start();
    expect(store.getState().widgets.alerts).toEqual([]);
    expect(storage.data.has(KEY)).toBe(false);
    const error = errors[0] as InvalidPersistedStateError;
    expect(error.path).toMatch(/^state\.widgets\.alerts\.0/);
    engine.stop();
  });

  it('discards a state of a version it cannot migrate', () => {
    const storage = new SpyStorage();
    const future = { ...makeState(), version: STATE_VERSION + 1 };
    storage.setItem(KEY, JSON.stringify({ format: 1, state: future, savedAt: Date.now() }));
    const { engine, errors } = setup({}, storage);
    engine.start();
    expect(storage.data.has(KEY)).toBe(false);
    expect(errors[0]?.message).toMatch(/newer than supported/);
    engine.stop();
  });

  it('migrates a state of an older version with the given table', () => {
    const storage = new SpyStorage();
    const { version: _v, ...rest } = makeState({ activeProject: 'migrated' });
    storage.setItem(
      KEY,
      JSON.stringify({ format: 1, state: { ...rest, version: 0 }, savedAt: Date.now() }),
    );
    const { store, engine } = setup(
      { migrations: { 0: (state) => ({ ...state, version: 1 }) } },
      storage,
    );
    engine.start();
    expect(store.getState().activeProject).toBe('migrated');
    engine.stop();
  });

  it('survives a full quota: reports it, keeps running, and saves once space is free', () => {
    const storage = new QuotaStorage(50);
    const { store, engine, errors } = setup({}, storage);
    engine.start();
    store.getState().setActiveProject('big');
    vi.advanceTimersByTime(1000);
    expect(errors[0]).toBeInstanceOf(StorageQuotaError);
    expect(store.getState().activeProject).toBe('big');
    storage.quotaChars = 1_000_000;
    store.getState().setActiveProject('fits');
    vi.advanceTimersByTime(1000);
    expect(storage.envelope(KEY)?.state.activeProject).toBe('fits');
    engine.stop();
  });

  it('reports a state over the size limit instead of writing it', () => {
    const { store, storage, engine, errors } = setup();
    engine.start();
    store.getState().setFullState(makeState({ targetBytes: 1_100_000, timestamp: Date.now() + 5 }));
    vi.advanceTimersByTime(1000);
    expect(errors[0]).toBeInstanceOf(StateTooLargeError);
    expect(storage.writes).toHaveLength(0);
    engine.stop();
  });

  it('keeps running when storage access is blocked', () => {
    const { store, engine, errors } = setup({}, new BrokenStorage() as unknown as SpyStorage);
    engine.start();
    store.getState().setActiveProject('p');
    vi.advanceTimersByTime(1000);
    expect(errors.map((e) => e.constructor)).toEqual([StorageAccessError, StorageAccessError]);
    expect(store.getState().activeProject).toBe('p');
    engine.stop();
  });

  it('flushes a pending save on pagehide', () => {
    const { store, storage, engine, lifecycle } = setup();
    engine.start();
    store.getState().setActiveProject('closing');
    lifecycle.window.pagehide();
    expect(storage.envelope(KEY)?.state.activeProject).toBe('closing');
    engine.stop();
  });

  it('flushes when the page becomes hidden, not when it becomes visible', () => {
    const { store, storage, engine, lifecycle } = setup();
    engine.start();
    store.getState().setActiveProject('a');
    lifecycle.document.show();
    expect(storage.writes).toHaveLength(0);
    lifecycle.document.hide();
    expect(storage.writes).toHaveLength(1);
    engine.stop();
  });

  it('writes what is pending when stopped, and stopping twice is safe', () => {
    const { store, storage, engine, lifecycle } = setup();
    engine.start();
    store.getState().setActiveProject('bye');
    engine.stop();
    engine.stop();
    expect(storage.writes).toHaveLength(1);
    store.getState().setActiveProject('after');
    lifecycle.window.pagehide();
    vi.advanceTimersByTime(5000);
    expect(storage.writes).toHaveLength(1);
  });

  it('keeps a state set before hydration when it is newer than the stored one', () => {
    const storage = new SpyStorage();
    const { store, engine } = setup({}, storage);
    // Stored after the engine was created, but before the state set before start().
    vi.advanceTimersByTime(5000);
    storage.setItem(KEY, envelopeOf(makeState({ timestamp: Date.now(), activeProject: 'stored' })));
    vi.advanceTimersByTime(5000);
    store.getState().setActiveProject('set-early');
    engine.start();
    expect(store.getState().activeProject).toBe('set-early');
    vi.advanceTimersByTime(1000);
    expect(storage.envelope(KEY)?.state.activeProject).toBe('set-early');
    engine.stop();
  });

  it('applies a stored state newer than one set before hydration', () => {
    const storage = new SpyStorage();
    const { store, engine } = setup({}, storage);
    store.getState().setActiveProject('set-early');
    storage.setItem(
      KEY,
      envelopeOf(makeState({ timestamp: Date.now() + 5000, activeProject: 'stored' })),
    );
    engine.start();
    expect(store.getState().activeProject).toBe('stored');
    engine.stop();
  });

  it('reads a bare state written by the earlier hook', () => {
    const storage = new SpyStorage();
    storage.setItem(KEY, JSON.stringify(makeState({ activeProject: 'legacy' })));
    const { store, engine } = setup({}, storage);
    engine.start();
    expect(store.getState().activeProject).toBe('legacy');
    engine.stop();
  });

  it('clear() removes storage and resets the store without writing it back', async () => {
    const storage = new SpyStorage();
    storage.setItem(KEY, envelopeOf(makeState({ activeProject: 'x' })));
    const { store, engine } = setup({}, storage);
    engine.start();
    store.getState().setActiveProject('pending');
    expect(await engine.clear()).toEqual({ local: true, server: 'disabled' });
    vi.advanceTimersByTime(5000);
    expect(storage.data.has(KEY)).toBe(false);
    expect(store.getState().activeProject).toBeNull();
    expect(store.getState().widgets.alerts).toEqual([]);
    store.getState().setActiveProject('next');
    vi.advanceTimersByTime(1000);
    expect(storage.envelope(KEY)?.state.activeProject).toBe('next');
    engine.stop();
  });

  it('notifies snapshot subscribers and stops notifying after unsubscribe', () => {
    const { store, engine } = setup();
    const listener = vi.fn();
    const unsubscribe = engine.subscribe(listener);
    engine.start();
    expect(listener).toHaveBeenCalledTimes(1);
    unsubscribe();
    store.getState().setActiveProject('p');
    vi.advanceTimersByTime(1000);
    expect(listener).toHaveBeenCalledTimes(1);
    engine.stop();
  });

  it('is a no-op when disabled', () => {
    const { store, storage, engine } = setup({ enabled: false });
    engine.start();
    store.getState().setActiveProject('p');
    vi.advanceTimersByTime(5000);
    engine.flush();
    expect(storage.writes).toHaveLength(0);
    expect(engine.getSnapshot()).toEqual({
      isInitialized: false,
      lastSavedAt: null,
      syncStatus: 'local-only',
    });
  });
});

describe('persistence engine: server-side rendering', () => {
  it('runs with no window: a no-op engine touching neither storage nor channels', async () => {
    expect(typeof window).toBe('undefined');
    const store = createDashboardStore();
    const engine = createStatePersistence(store);
    engine.start();
    store.getState().setActiveProject('ssr');
    engine.flush();
    await engine.clear();
    engine.stop();
    expect(engine.getSnapshot().syncStatus).toBe('local-only');
  });
});
