// Every module of the client, public and internal, for the tests (the package's own
// entry, src/index.ts, exports only the public API).

export * from '../../src/content/owner.js';
export * from '../../src/content/refs.js';
export * from '../../src/content/stamp.js';
export * from '../../src/engine/engine.js';
export * from '../../src/engine/noop.js';
export * from '../../src/engine/options.js';
export * from '../../src/engine/owner-source.js';
export * from '../../src/engine/types.js';
export * from '../../src/environment.js';
export * from '../../src/errors.js';
export * from '../../src/logger.js';
export * from '../../src/persisted-state.js';
export * from '../../src/react/use-state-persistence.js';
export * from '../../src/selectors.js';
export * from '../../src/server/connection.js';
export * from '../../src/server/fetch-state.js';
export * from '../../src/server/options.js';
export * from '../../src/server/socket.js';
export * from '../../src/server/status.js';
export * from '../../src/server/sync.js';
export * from '../../src/server/url.js';
export * from '../../src/storage/envelope.js';
export * from '../../src/store.js';
export * from '../../src/tabs/channel.js';
export * from '../../src/tabs/delta.js';
export * from '../../src/tabs/leader.js';
export * from '../../src/tabs/sync.js';
export * from '../../src/timing/backoff.js';
export * from '../../src/timing/debounce.js';
export * from '../../src/timing/throttle.js';
