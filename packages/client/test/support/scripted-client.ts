// Client engines against a scripted server, for protocol tests. `setUpScriptedServer()`
// (called at the top of a test file) gives each test a fresh ScriptedServer, and
// `createEngine()`: an engine on it (no cross-tab channel, a real `ws` socket, quick
// reconnects, logs with DBG=1), stopped after the test, before the server closes.

import { afterEach, beforeEach } from 'vitest';
import { WebSocket } from 'ws';
import {
  createStatePersistence,
  type DashboardStoreApi,
  type ServerSyncOptions,
  type StatePersistence,
  type StatePersistenceOptions,
} from './client.js';
import { ScriptedServer } from './scripted-server.js';

export interface ScriptedSetup {
  /** This test's server. */
  readonly server: ScriptedServer;
  /**
   * An engine for `store` on this test's server, not started yet (subscribe first if
   * you need every status). `options` and `serverOptions` go over the defaults.
   */
  createEngine(
    store: DashboardStoreApi,
    options?: StatePersistenceOptions,
    serverOptions?: Partial<ServerSyncOptions>,
  ): StatePersistence;
}

export function setUpScriptedServer(): ScriptedSetup {
  let server: ScriptedServer | undefined;
  const running: StatePersistence[] = [];

  beforeEach(async () => {
    server = await ScriptedServer.start();
  });
  afterEach(async () => {
    for (const engine of running.splice(0)) engine.stop();
    await server?.close();
  });

  const setup: ScriptedSetup = {
    get server() {
      if (!server) throw new Error('setUpScriptedServer: no server yet (use it inside tests)');
      return server;
    },
    createEngine(store, options = {}, serverOptions = {}) {
      const engine = createStatePersistence(store, {
        createChannel: null,
        origin: 'client-origin',
        ...(process.env.DBG ? { debug: true } : {}),
        ...options,
        server: {
          url: setup.server.url,
          getToken: () => 'token',
          createWebSocket: (url) => new WebSocket(url),
          reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
          ...serverOptions,
        },
      });
      running.push(engine);
      return engine;
    },
  };
  return setup;
}
