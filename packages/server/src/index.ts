// Wire names defined once in the schema package, re-exported for the server's users.
export { CloseCode, STATE_PATH, SUBSCRIBE_PATH } from '@hyvve/schema';
export type { AppOptions } from './app.js';
export { buildApp } from './app.js';
export type { Identity, SignTokenOptions } from './auth/token.js';
export { signToken, verifyToken } from './auth/token.js';
export type { TokenVerifierOptions } from './auth/token-verifier.js';
export { TokenVerifier } from './auth/token-verifier.js';
export type { ChannelEvent } from './channel/channel-event.js';
export type { Environment, ServerConfig } from './config.js';
export { loadConfig } from './config.js';
export type { ApiError } from './errors.js';
export {
  AuthError,
  ClockAheadError,
  ConfigError,
  InvalidIdError,
  InvalidRequestError,
  InvalidStateError,
  OptionError,
  PersistenceError,
  RateLimitedError,
  StaleRevisionError,
  StateConflictError,
  StateNotFoundError,
  StateTooLargeError,
  StoreUnavailableError,
  statusOf,
  toApiError,
} from './errors.js';
export { closeConnectionsOnShutdown } from './http/close-connections.js';
export type { MetricsRouteOptions } from './http/metrics-route.js';
export { METRICS_PATH, registerMetricsRoute } from './http/metrics-route.js';
export type { DashboardStatePluginOptions, SecurityHeadersScope } from './http/plugin.js';
export { dashboardStatePlugin } from './http/plugin.js';
export type { Logger } from './logger.js';
export type {
  ServerMetricsOptions,
  SocketDropReason,
  Transport,
} from './metrics/server-metrics.js';
export { ServerMetrics } from './metrics/server-metrics.js';
export type { ResyncResult, StoreConnectionRole, StoreMetrics } from './metrics/store-metrics.js';
export type { RateLimitOptions, ServerOptions } from './options.js';
export { DEFAULT_RATE_LIMIT, DEFAULT_STALL_TIMEOUT_MS } from './options.js';
export type { RequestLimiter } from './rate-limit/request-limiter.js';
export { createRequestLimiter } from './rate-limit/request-limiter.js';
export { SaveRateLimiter, TokenBucketLimiter } from './rate-limit/token-buckets.js';
export type { StateOwner, StateScope } from './scope.js';
export { isValidId, stateScope } from './scope.js';
export type { RunningServer } from './server.js';
export { startServer } from './server.js';
export {
  closeStatePersistence,
  configureStatePersistence,
  deleteState,
  getStatePersistenceService,
  loadState,
  saveState,
  subscribeToState,
} from './service/default-service.js';
export type {
  DeleteResult,
  SaveOptions,
  SaveResult,
  StateListener,
  StatePersistenceServiceOptions,
  StateSubscription,
} from './service/state-persistence-service.js';
export { StatePersistenceService } from './service/state-persistence-service.js';
export type { StateStoreOptions } from './store/create-store.js';
export {
  createMemoryStateStore,
  createRedisStateStore,
  createStateStore,
} from './store/create-store.js';
export type { MemoryStateStoreOptions } from './store/memory-store.js';
export { MemoryStateStore } from './store/memory-store.js';
export type {
  ClusterNode,
  ClusterPubSub,
  RedisClusterOptions,
} from './store/redis/cluster-options.js';
export type { RedisPersistence } from './store/redis/persistence.js';
export { warnIfRedisNotPersistent } from './store/redis/persistence.js';
export type { RedisStateStoreOptions } from './store/redis/redis-store.js';
export { RedisStateStore } from './store/redis/redis-store.js';
export type {
  ChannelHead,
  ChannelListener,
  DeleteOutcome,
  DeleteRequest,
  EpochListener,
  LoadedRecord,
  ResetListener,
  SaveOutcome,
  SaveRequest,
  StateStore,
  StoredRecord,
  StoreStatus,
  Subscription,
} from './store/state-store.js';
