// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createDashboardStore,
  type PersistenceError,
  useActivity,
  useAlerts,
  useDashboardState,
  useDashboardStateWithPersistence,
  useErrors,
  useIsLoading,
  useMetrics,
  useProjectStatus,
  useStatePersistence,
} from './support/client.js';
import { ScriptedServer } from './support/scripted-server.js';

/** Polls `condition` (through Testing Library, inside act) until it holds; assert after it. */
async function until(condition: () => boolean): Promise<void> {
  await waitFor(() => {
    if (!condition()) throw new Error(`still waiting for ${condition.toString()}`);
  });
}

const KEY = 'react-test-dashboard';

function store(state = makeState({ activeProject: 'stored', timestamp: Date.now() - 1000 })) {
  localStorage.setItem(KEY, JSON.stringify({ format: 1, state, savedAt: Date.now() }));
  return state;
}

beforeEach(() => {
  localStorage.clear();
  useDashboardState.getState().reset();
});
afterEach(() => {
  // Without Vitest globals Testing Library does not unmount by itself: a hook left mounted
  // keeps its engine running (timers, reconnects, saves into the next test's storage), and
  // once the file ends it fires into a torn-down jsdom ("window is not defined").
  cleanup();
  localStorage.clear();
});

describe('useStatePersistence', () => {
  it('loads the stored state on mount and reports initialized', async () => {
    store();
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    expect(useDashboardState.getState().activeProject).toBe('stored');
    expect(result.current.syncStatus).toBe('local-only');
  });

  it('saves after the debounce and exposes lastSavedAt', async () => {
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, debounceMs: 30, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    act(() => useDashboardState.getState().setActiveProject('changed'));
    expect(localStorage.getItem(KEY)).toBeNull();
    await until(() => result.current.lastSavedAt !== null);
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').state.activeProject).toBe('changed');
  });

  it('forceSave writes at once', async () => {
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    act(() => useDashboardState.getState().setActiveProject('now'));
    act(() => result.current.forceSave());
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').state.activeProject).toBe('now');
  });

  it('clearPersistedState clears storage and the store', async () => {
    store();
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => useDashboardState.getState().activeProject === 'stored');
    const cleared = await act(() => result.current.clearPersistedState());
    expect(cleared).toEqual({ local: true, server: 'disabled' });
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(useDashboardState.getState().activeProject).toBeNull();
  });

  it('flushes a pending save when the page is hidden (pagehide)', async () => {
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    act(() => useDashboardState.getState().setActiveProject('closing-tab'));
    window.dispatchEvent(new Event('pagehide'));
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').state.activeProject).toBe('closing-tab');
  });

  it('writes what is pending on unmount', async () => {
    const { result, unmount } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    act(() => useDashboardState.getState().setActiveProject('unmounting'));
    unmount();
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').state.activeProject).toBe('unmounting');
  });

  it('does nothing when disabled', async () => {
    store();
    const { result } = renderHook(() => useStatePersistence({ storageKey: KEY, enabled: false }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(result.current.isInitialized).toBe(false);
    expect(useDashboardState.getState().activeProject).toBeNull();
  });

  it('persists a store passed in, and recreates the engine when the key changes', async () => {
    const own = createDashboardStore();
    const { result, rerender } = renderHook(
      ({ storageKey }) =>
        useStatePersistence({ store: own, storageKey, enableCrossTabSync: false }),
      { initialProps: { storageKey: `${KEY}-a` } },
    );
    await until(() => result.current.isInitialized === true);
    act(() => own.getState().setActiveProject('one'));
    rerender({ storageKey: `${KEY}-b` });
    // Stopping the first engine wrote its pending change under the first key.
    expect(JSON.parse(localStorage.getItem(`${KEY}-a`) ?? '{}').state.activeProject).toBe('one');
    act(() => own.getState().setActiveProject('two'));
    act(() => result.current.forceSave());
    expect(JSON.parse(localStorage.getItem(`${KEY}-b`) ?? '{}').state.activeProject).toBe('two');
  });

  it('calls the latest onError and debug logger without recreating the engine', async () => {
    localStorage.setItem(KEY, 'garbage');
    const first = vi.fn();
    const second = vi.fn();
    const logger = { debug: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const { result, rerender } = renderHook(
      ({ onError }) =>
        useStatePersistence({ storageKey: KEY, enableCrossTabSync: false, onError, debug: logger }),
      { initialProps: { onError: first as (error: PersistenceError) => void } },
    );
    await until(() => result.current.isInitialized === true);
    expect(first).toHaveBeenCalledTimes(1);
    rerender({ onError: second });
    localStorage.setItem(KEY, 'garbage again');
    const broken = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    act(() => useDashboardState.getState().setActiveProject('p'));
    act(() => result.current.forceSave());
    broken.mockRestore();
    expect(second).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalled();
  });
  it('reports the sync status and asks the latest getToken on each connect', async () => {
    const server = await ScriptedServer.start();
    try {
      const { result, rerender, unmount } = renderHook(
        ({ token }) =>
          useStatePersistence({
            storageKey: KEY,
            enableCrossTabSync: false,
            server: {
              url: server.url,
              getToken: () => token,
              createWebSocket: (url) => new WebSocket(url),
              reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
            },
          }),
        { initialProps: { token: 'first-token' } },
      );
      try {
        await until(() => result.current.syncStatus === 'connecting');
        const first = await server.ready(0);
        await until(() => result.current.syncStatus === 'synced');
        expect(first.received[0]).toEqual({ type: 'auth', token: 'first-token' });
        rerender({ token: 'refreshed-token' });
        first.close(1001, 'restart');
        const second = await server.connection(1);
        expect(await second.next('auth')).toEqual({ type: 'auth', token: 'refreshed-token' });
      } finally {
        // Stop the engine before the server goes, or it keeps reconnecting to a closed port.
        unmount();
      }
    } finally {
      await server.close();
    }
  });

  it('logs structured events to the console with debug: true', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const { result } = renderHook(() =>
      useStatePersistence({ storageKey: KEY, enableCrossTabSync: false, debug: true }),
    );
    await until(() => result.current.isInitialized === true);
    expect(debug).toHaveBeenCalledWith('[hyvve-persistence]', 'storage.empty', { storageKey: KEY });
  });
});

describe('useDashboardStateWithPersistence', () => {
  it('persists the app-wide store and hands it back', async () => {
    store();
    const { result } = renderHook(() =>
      useDashboardStateWithPersistence({ storageKey: KEY, enableCrossTabSync: false }),
    );
    await until(() => result.current.isInitialized === true);
    expect(result.current.store).toBe(useDashboardState);
    expect(result.current.store.getState().activeProject).toBe('stored');
  });
});

function Widgets() {
  const status = useProjectStatus();
  const metrics = useMetrics();
  const activity = useActivity();
  const alerts = useAlerts();
  const loading = useIsLoading();
  const errors = useErrors();
  return (
    <ul>
      <li>status:{status?.name ?? '-'}</li>
      <li>metrics:{metrics?.metrics.length ?? 0}</li>
      <li>activity:{activity?.activities.length ?? 0}</li>
      <li>alerts:{alerts.length}</li>
      <li>loading:{String(loading)}</li>
      <li>errors:{Object.keys(errors).length}</li>
    </ul>
  );
}

describe('selector hooks', () => {
  it('render each slice and follow changes', () => {
    render(<Widgets />);
    expect(screen.getByText('status:-')).toBeTruthy();
    act(() => {
      useDashboardState
        .getState()
        .setFullState(makeState({ alerts: 2, activities: 3, metrics: 4 }));
      useDashboardState.getState().setLoading(true);
      useDashboardState.getState().setError('agent', 'x');
    });
    expect(screen.getByText('status:Apollo')).toBeTruthy();
    expect(screen.getByText('metrics:4')).toBeTruthy();
    expect(screen.getByText('activity:3')).toBeTruthy();
    expect(screen.getByText('alerts:2')).toBeTruthy();
    expect(screen.getByText('loading:true')).toBeTruthy();
    expect(screen.getByText('errors:1')).toBeTruthy();
  });
});
