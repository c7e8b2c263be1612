// The engine's options, each with its default, merged in one place (`resolveOptions`).
import {
  BROADCAST_CHANNEL_NAME,
  type MigrationTable,
  PERSISTENCE_DEBOUNCE_MS,
  STATE_TTL_MS,
  STORAGE_KEY,
} from '@hyvve/schema';
import type { Owner } from '../content/owner.js';
import type { Lifecycle } from '../environment.js';
import type { PersistenceError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import type { ServerSyncOptions } from '../server/options.js';
import type { StateStorage } from '../storage/envelope.js';
import type { ChannelFactory } from '../tabs/channel.js';

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
  /**
   * Whose dashboard this is. Stored copies and cross-tab messages name it, and the engine
   * uses only copies of this owner (another person's, or one without an owner, is
   * discarded). Pass it when the app knows who is signed in: the engine then loads at
   * once, also offline. @default the `wid`/`sub` claims of the server token (the engine
   * waits for the first token before loading); none without a server
   */
  owner?: Owner;
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

type Defaulted =
  | 'enabled'
  | 'storageKey'
  | 'debounceMs'
  | 'maxWaitMs'
  | 'ttlMs'
  | 'enableCrossTabSync'
  | 'channelName'
  | 'crossTabIntervalMs'
  | 'debug'
  | 'now'
  | 'onError';

export type ResolvedOptions = StatePersistenceOptions &
  Required<Pick<StatePersistenceOptions, Defaulted>>;

const defaults: Required<Pick<StatePersistenceOptions, Defaulted>> = {
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
  onError: (error: PersistenceError): void => {
    console.warn('[hyvve-persistence]', error.message);
  },
};

/** The options with every default filled in. */
export function resolveOptions(options: StatePersistenceOptions): ResolvedOptions {
  // `onError: undefined` (a hook passing its option through) still gets the default.
  return { ...defaults, ...options, onError: options.onError ?? defaults.onError };
}
