// React bindings: a few lines of effect around the framework-agnostic engine. All the
// behaviour lives in the engine (engine/engine.ts); nothing here runs during server rendering (effects
// do not run there), and the server snapshot is the no-op engine's.
import { STORAGE_KEY } from '@hyvve/schema';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { createStatePersistence } from '../engine/engine.js';
import { createNoopPersistence } from '../engine/noop.js';
import type { StatePersistenceOptions } from '../engine/options.js';
import type {
  ClearResult,
  PersistableStore,
  PersistenceSnapshot,
  StatePersistence,
} from '../engine/types.js';
import type { PersistenceError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { useDashboardState } from '../store.js';

export interface UseStatePersistenceOptions extends StatePersistenceOptions {
  /** The store to persist. @default useDashboardState (the app-wide store) */
  store?: PersistableStore;
}

export interface UseStatePersistenceResult extends PersistenceSnapshot {
  /** Writes pending changes now (localStorage, other tabs, server). */
  forceSave: () => void;
  /**
   * Sign-out's clean-up: clears this browser's copies (this tab, the other tabs, saves not
   * sent yet) and stops syncing; the server copy stays for the person's other devices
   * (`server: 'kept'`). Never rejects.
   */
  clearPersistedState: () => Promise<ClearResult>;
  /**
   * "Reset my dashboard everywhere": clears this browser's copies and deletes the server
   * copy, so every device starts empty. Ask the person first. Resolves with what the
   * delete did; rejects with a `ServerRejectedError` when the server refused it.
   */
  resetDashboard: () => Promise<ClearResult>;
}

/**
 * Persists the dashboard store while the component is mounted. The engine is recreated
 * only when an option that shapes it changes; callbacks (`getToken`, `onError`, a
 * `debug` logger) may be new functions on every render and the latest one is used.
 */
export function useStatePersistence(
  options: UseStatePersistenceOptions = {},
): UseStatePersistenceResult {
  const store = options.store ?? useDashboardState;
  const key = options.storageKey ?? STORAGE_KEY;
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [engine, setEngine] = useState<StatePersistence>(() => createNoopPersistence(key));

  const {
    enabled,
    debounceMs,
    maxWaitMs,
    ttlMs,
    enableCrossTabSync,
    channelName,
    crossTabIntervalMs,
  } = options;
  const { storage, createChannel, lifecycle, now, origin, migrations } = options;
  const serverUrl = options.server?.url;
  // A new person (explicit owner) gets a new engine: nothing of the previous one's is kept.
  const ownerKey = options.owner ? `${options.owner.workspaceId}/${options.owner.userId}` : null;
  const debugMode = typeof options.debug === 'object' ? 'logger' : Boolean(options.debug);

  // biome-ignore lint/correctness/useExhaustiveDependencies: callbacks are read through `latest`; only shape-changing options recreate the engine
  useEffect(() => {
    const current = latest.current;
    const logger: PersistenceLogger = {
      debug: (event, context) => loggerOf(latest.current.debug)?.debug(event, context),
      warn: (event, context) => loggerOf(latest.current.debug)?.warn(event, context),
      error: (event, context) => loggerOf(latest.current.debug)?.error(event, context),
    };
    const created = createStatePersistence(store, {
      ...current,
      ...(debugMode === 'logger' ? { debug: logger } : {}),
      ...(current.onError
        ? { onError: (error: PersistenceError) => latest.current.onError?.(error) }
        : {}),
      ...(current.server
        ? {
            server: {
              ...current.server,
              getToken: () => {
                const server = latest.current.server ?? current.server;
                if (!server) throw new Error('server sync options were removed');
                return server.getToken();
              },
            },
          }
        : {}),
    });
    created.start();
    setEngine(created);
    return () => created.stop();
  }, [
    store,
    key,
    enabled,
    debounceMs,
    maxWaitMs,
    ttlMs,
    enableCrossTabSync,
    channelName,
    crossTabIntervalMs,
    serverUrl,
    ownerKey,
    debugMode,
    storage,
    createChannel,
    lifecycle,
    now,
    origin,
    migrations,
  ]);

  const snapshot = useSyncExternalStore(engine.subscribe, engine.getSnapshot, serverSnapshot);
  const forceSave = useCallback(() => engine.flush(), [engine]);
  const clear = useCallback(() => engine.clear(), [engine]);
  const resetDashboard = useCallback(() => engine.resetServerCopy(), [engine]);
  return { ...snapshot, forceSave, clearPersistedState: clear, resetDashboard };
}

export interface UseDashboardStateWithPersistenceResult extends UseStatePersistenceResult {
  /** The app-wide store hook, for `useDashboardState(selector)` and `.getState()`. */
  store: typeof useDashboardState;
}

/** The app-wide store with persistence attached: call once near the root of the dashboard. */
export function useDashboardStateWithPersistence(
  options: Omit<UseStatePersistenceOptions, 'store'> = {},
): UseDashboardStateWithPersistenceResult {
  const persistence = useStatePersistence(options);
  return { ...persistence, store: useDashboardState };
}

const noopSnapshot = createNoopPersistence().getSnapshot();
function serverSnapshot(): PersistenceSnapshot {
  return noopSnapshot;
}

function loggerOf(debug: StatePersistenceOptions['debug']): PersistenceLogger | null {
  return typeof debug === 'object' ? debug : null;
}
