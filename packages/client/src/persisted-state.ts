// Module-level helpers for code outside the hooks: logout (`clearPersistedState`, local:
// the server copy stays for the person's other devices) and "is there anything to
// restore?" (`hasPersistedState`).
import { BROADCAST_CHANNEL_NAME, STATE_TTL_MS, STORAGE_KEY } from '@hyvve/schema';
import { type Owner, sameOwner } from './content/owner.js';
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
  /** `hasPersistedState`: only a copy of this owner counts. @default any owner's */
  owner?: Owner;
}

// With several engines on one key, the most telling outcome is reported.
const OUTCOME_RANK: readonly ServerClearOutcome[] = [
  'deleted',
  'nothing-stored',
  'offline-queued',
  'kept',
  'disabled',
];

/**
 * Clears this browser's persisted dashboard (logout/cleanup): this tab's storage and
 * store, every other tab (they clear too) and saves not sent yet. The server copy is
 * never touched (`kept`): it is what brings the dashboard back on the person's other
 * devices and at their next sign-in; deleting it is `engine.resetServerCopy()` (the hook's
 * `resetDashboard`). Running engines for the key do it and stop syncing; without one,
 * storage is removed, other tabs are told and the app-wide store is reset (`disabled`).
 * Local failures go to `onError`; it never rejects.
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
    tab?.postClear('local');
    tab?.close();
  }
  useDashboardState.getState().reset();
  return result;
}

/**
 * Whether a valid, unexpired state is stored under the key (of `options.owner`, when
 * given). Never throws; false on the server.
 */
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
  if (result.kind !== 'loaded') return false;
  return options.owner === undefined || sameOwner(result.envelope.owner, options.owner);
}
