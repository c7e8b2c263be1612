// @vitest-environment jsdom
import { BROADCAST_CHANNEL_NAME, STATE_TTL_MS, STORAGE_KEY } from '@hyvve/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  clearPersistedState,
  createDashboardStore,
  createStatePersistence,
  hasPersistedState,
  type PersistenceError,
  StorageAccessError,
  useDashboardState,
} from './support/client.js';
import { BrokenStorage, SpyStorage, waitUntil } from './support/fakes.js';

const envelope = (savedAt = Date.now()) =>
  JSON.stringify({ format: 1, state: makeState({ activeProject: 'p' }), savedAt });

beforeEach(() => {
  localStorage.clear();
  useDashboardState.getState().reset();
});
afterEach(() => localStorage.clear());

describe('hasPersistedState', () => {
  it('is false when nothing is stored', () => {
    expect(hasPersistedState()).toBe(false);
  });

  it('is true for a valid, fresh state under the default key', () => {
    localStorage.setItem(STORAGE_KEY, envelope());
    expect(hasPersistedState()).toBe(true);
  });

  it('is false for a stale or invalid state, and leaves it where it is', () => {
    localStorage.setItem('stale', envelope(Date.now() - STATE_TTL_MS - 1));
    localStorage.setItem('invalid', '{oops');
    expect(hasPersistedState('stale')).toBe(false);
    expect(hasPersistedState('invalid')).toBe(false);
    expect(localStorage.getItem('invalid')).toBe('{oops');
  });

  it('reads the storage it is given, and counts only the owner asked for', () => {
    const storage = new SpyStorage();
    const owner = { workspaceId: 'acme', userId: 'u1' };
    storage.setItem(
      'given',
      JSON.stringify({ format: 1, state: makeState(), savedAt: Date.now(), owner }),
    );
    expect(localStorage.getItem('given')).toBeNull();
    expect(hasPersistedState('given', { storage })).toBe(true);
    expect(hasPersistedState('given', { storage, owner })).toBe(true);
    expect(hasPersistedState('given', { storage, owner: { ...owner, userId: 'u2' } })).toBe(false);
    expect(hasPersistedState('given', { storage, ttlMs: -1 })).toBe(false);
  });

  it('is false where there is no storage', () => {
    expect(hasPersistedState(STORAGE_KEY, { storage: null })).toBe(false);
  });
});

describe('clearPersistedState', () => {
  it('without a running engine: removes storage, resets the app store and tells other tabs', async () => {
    localStorage.setItem(STORAGE_KEY, envelope());
    useDashboardState.getState().setActiveProject('signed-in');
    const otherTab = new BroadcastChannel(BROADCAST_CHANNEL_NAME);
    const received: unknown[] = [];
    otherTab.onmessage = (event) => received.push(event.data);
    try {
      expect(await clearPersistedState()).toEqual({ local: true, server: 'disabled' });
      expect(localStorage.getItem(STORAGE_KEY)).toBeNull();
      expect(useDashboardState.getState().activeProject).toBeNull();
      await waitUntil(() => received.length === 1, 2000, 'the clear message');
      expect(received[0]).toMatchObject({ type: 'clear', key: STORAGE_KEY, scope: 'local' });
    } finally {
      otherTab.close();
    }
  });

  it('with a running engine: clears through it, so nothing is written back', async () => {
    const store = createDashboardStore();
    const engine = createStatePersistence(store, {
      storageKey: 'with-engine',
      enableCrossTabSync: false,
    });
    engine.start();
    store.getState().setActiveProject('pending');
    // A local-only engine reaches no server.
    expect(await clearPersistedState('with-engine')).toEqual({ local: true, server: 'disabled' });
    engine.flush();
    expect(localStorage.getItem('with-engine')).toBeNull();
    expect(store.getState().activeProject).toBeNull();
    engine.stop();
  });

  it('reports a storage that refuses the removal instead of throwing', async () => {
    const errors: PersistenceError[] = [];
    await clearPersistedState('k', {
      storage: new BrokenStorage(),
      onError: (e) => errors.push(e),
    });
    expect(errors[0]?.code).toBe('storage_failed');
  });

  it('warns on the console when no onError is given', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await clearPersistedState('k', { storage: new BrokenStorage() });
    expect(warn).toHaveBeenCalledWith('[hyvve-persistence]', expect.stringContaining('remove'));
  });

  it('clears without telling other tabs where there is no BroadcastChannel', async () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    try {
      const errors: PersistenceError[] = [];
      localStorage.setItem('k', envelope());
      useDashboardState.getState().setActiveProject('signed-in');
      const result = await clearPersistedState('k', { onError: (e) => errors.push(e) });
      expect(result).toEqual({ local: true, server: 'disabled' });
      expect(errors).toEqual([]);
      expect(localStorage.getItem('k')).toBeNull();
      expect(useDashboardState.getState().activeProject).toBeNull();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('clears and reports it when the channel to other tabs cannot be opened', async () => {
    vi.stubGlobal(
      'BroadcastChannel',
      class {
        constructor() {
          throw new DOMException('blocked', 'SecurityError');
        }
      },
    );
    try {
      const errors: PersistenceError[] = [];
      localStorage.setItem('k', envelope());
      useDashboardState.getState().setActiveProject('signed-in');
      const result = await clearPersistedState('k', { onError: (e) => errors.push(e) });
      expect(result).toEqual({ local: true, server: 'disabled' });
      expect(errors.map((e) => e.code)).toEqual(['cross_tab_failed']);
      expect(localStorage.getItem('k')).toBeNull();
      expect(useDashboardState.getState().activeProject).toBeNull();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('does nothing where there is no storage', async () => {
    useDashboardState.getState().setActiveProject('kept');
    await clearPersistedState(STORAGE_KEY, { storage: null });
    expect(useDashboardState.getState().activeProject).toBe('kept');
  });
});

describe('engine in a browser environment', () => {
  it('uses window.localStorage and BroadcastChannel by default', async () => {
    const a = createDashboardStore();
    const b = createDashboardStore();
    const ea = createStatePersistence(a, { storageKey: 'defaults', debounceMs: 20 });
    const eb = createStatePersistence(b, { storageKey: 'defaults', debounceMs: 20 });
    ea.start();
    eb.start();
    try {
      a.getState().setActiveProject('default-path');
      await waitUntil(() => b.getState().activeProject === 'default-path', 2000);
      await waitUntil(() => localStorage.getItem('defaults') !== null, 2000);
    } finally {
      ea.stop();
      eb.stop();
    }
  });
});

describe('blocked storage', () => {
  it('reports a localStorage the browser refuses to hand out, and runs as a no-op', () => {
    const blocked = vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    const errors: PersistenceError[] = [];
    const engine = createStatePersistence(createDashboardStore(), {
      onError: (e) => errors.push(e),
    });
    engine.start();
    blocked.mockRestore();
    expect(errors[0]).toBeInstanceOf(StorageAccessError);
    expect(engine.getSnapshot().isInitialized).toBe(false);
    engine.stop();
  });
});
