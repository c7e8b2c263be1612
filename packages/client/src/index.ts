// The package's public API, chosen on purpose: the engine, the store, the React hooks,
// the errors and the types their options use. Everything else (debounce, throttle,
// backoff, the sync units, the envelope format) is internal and may change freely.

export type { Owner } from './content/owner.js';
export { createStatePersistence } from './engine/engine.js';
export { createNoopPersistence } from './engine/noop.js';
export type { StatePersistenceOptions } from './engine/options.js';
export type {
  ClearOptions,
  ClearResult,
  PersistableStore,
  PersistenceSnapshot,
  ServerClearOutcome,
  StatePersistence,
} from './engine/types.js';
export type { Lifecycle, VisibilitySource, WindowEvents } from './environment.js';
export {
  CrossTabError,
  InvalidPersistedStateError,
  PersistenceError,
  type PersistenceErrorCode,
  ServerRejectedError,
  ServerUnreachableError,
  StateTooLargeError,
  StorageAccessError,
  StorageQuotaError,
  TokenError,
} from './errors.js';
export type { PersistenceLogger } from './logger.js';
export {
  clearPersistedState,
  hasPersistedState,
  type PersistedStateOptions,
} from './persisted-state.js';
export * from './react.js';
export {
  selectActivity,
  selectAlerts,
  selectErrors,
  selectIsLoading,
  selectMetrics,
  selectProjectStatus,
} from './selectors.js';
export type { FetchLike } from './server/fetch-state.js';
export type { ServerSyncOptions } from './server/options.js';
export type { GetToken, SocketFactory, SocketLike } from './server/socket.js';
export type { SyncStatus } from './server/status.js';
export type { StateStorage } from './storage/envelope.js';
export {
  type AlertInput,
  createDashboardStore,
  type DashboardActions,
  type DashboardStore,
  type DashboardStoreApi,
  type DashboardStoreOptions,
  selectDashboardState,
} from './store.js';
export type { ChannelFactory, ChannelLike } from './tabs/channel.js';
export type { LockManagerLike } from './tabs/leader.js';
export type { BackoffOptions } from './timing/backoff.js';
