// Every module of the client, public and internal, for the tests (the package's own
// entry, src/index.ts, exports only the public API).
export * from '../../src/backoff.js';
export * from '../../src/content.js';
export * from '../../src/cross-tab.js';
export * from '../../src/debounce.js';
export * from '../../src/engine.js';
export * from '../../src/environment.js';
export * from '../../src/errors.js';
export * from '../../src/local-storage.js';
export * from '../../src/logger.js';
export * from '../../src/persisted-state.js';
export * from '../../src/react.js';
export * from '../../src/selectors.js';
export * from '../../src/server-api.js';
export * from '../../src/server-connection.js';
export * from '../../src/server-sync.js';
export * from '../../src/server-url.js';
export * from '../../src/store.js';
export * from '../../src/tab-patch.js';
export * from '../../src/tab-sync.js';
export * from '../../src/throttle.js';
