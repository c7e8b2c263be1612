// Module-level helpers for code outside the hooks: logout (`clearPersistedState`) and
// "is there anything to restore?" (`hasPersistedState`).
import { BROADCAST_CHANNEL_NAME, STATE_TTL_MS, STORAGE_KEY } from '@hyvve/schema';
import { enginesFor } from './engine/registry.js';
import type { ClearResult, ServerClearOutcome } from './engine/types.js';
import { browserChannelFactory, browserStorage, randomOrigin } from './environment.js';
import type { PersistenceError } from './errors.js';
import { readEnvelope, removeEnvelope, type StateStorage } from './storage/envelope.js';
import { useDashboardState } from './store.js';
import { openCrossTab } from './tabs/channel.js';

export interface PersistedStateOptions {
  /** @default window.localStorage */
  storage?: StateStorage | null;
  /** @default STATE_TTL_MS */
  ttlMs?: number;
  /** Receives failures. @default logs a warning to the console */
  onError?: (error: PersistenceError) => void;
}

// With several engines on one key, the most telling outcome is reported: one deleted copy
// means the server's copy is gone.
const OUTCOME_RANK: readonly ServerClearOutcome[] = [
  'deleted',
  'nothing-stored',
  'offline-queued',
  'disabled',
];

/**
 * Clears the persisted dashboard (e.g. on logout): this tab's storage and store, every
 * other tab (they clear too), and the server copy. Running engines for the key do it all
 * and report what became of the server copy; without one, storage is removed, other tabs
 * are told, the app-wide store is reset, and the server is not reached (`disabled`).
 * Rejects with a `ServerRejectedError` when the server refused the delete (or did not
 * answer in time); local failures go to `onError`.
 */
export async function clearPersistedState(
  storageKey: string = STORAGE_KEY,
  options: PersistedStateOptions = {},
): Promise<ClearResult> {
  const engines = enginesFor(storageKey);
  if (engines.length > 0) {
    const results = await Promise.all(engines.map((engine) => engine.clear()));
    const server = OUTCOME_RANK.find((outcome) => results.some((r) => r.server === outcome));
    return { local: true, server: server ?? 'disabled' };
  }
  const result: ClearResult = { local: true, server: 'disabled' };
  const onError =
    options.onError ??
    ((error: PersistenceError) => console.warn('[hyvve-persistence]', error.message));
  const storage = options.storage === undefined ? browserStorage() : options.storage;
  if (storage === null) return result; // server side: nothing to clear
  try {
    removeEnvelope(storage, storageKey);
  } catch (error) {
    onError(error as PersistenceError);
  }
  const createChannel = browserChannelFactory();
  if (createChannel) {
    const tab = openCrossTab({
      channelName: BROADCAST_CHANNEL_NAME,
      storageKey,
      origin: randomOrigin(),
      createChannel,
      onError,
      handlers: { onState() {}, onDelta() {}, onHello() {}, onClear() {} },
    });
    tab?.postClear();
    tab?.close();
  }
  useDashboardState.getState().reset();
  return result;
}

/** Whether a valid, unexpired state is stored under the key. Never throws; false on the server. */
export function hasPersistedState(
  storageKey: string = STORAGE_KEY,
  options: PersistedStateOptions = {},
): boolean {
  const storage = options.storage === undefined ? browserStorage() : options.storage;
  if (storage === null) return false;
  const result = readEnvelope(storage, storageKey, {
    ttlMs: options.ttlMs ?? STATE_TTL_MS,
    now: Date.now(),
  });
  return result.kind === 'loaded';
}
