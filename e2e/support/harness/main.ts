// A page that runs the built client engine with no app around it, for e2e scenarios the
// dashboard page cannot stage: its token is whatever the test sets, so the test can hand
// the running engine another person's token, and drop the socket to make it reconnect.
import { createDashboardStore, createStatePersistence } from '@hyvve/client';

const store = createDashboardStore();
let token = '';
const sockets: WebSocket[] = [];
const engine = createStatePersistence(store, {
  server: {
    url: location.origin,
    getToken: () => token,
    createWebSocket: (url) => {
      const socket = new WebSocket(url);
      sockets.push(socket);
      return socket;
    },
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
  },
});

const harness = {
  setToken(next: string): void {
    token = next;
  },
  start(): void {
    engine.start();
  },
  /** Closes the open socket: the engine reconnects, asking for a token again. */
  dropSocket(): void {
    sockets.at(-1)?.close(4000, 'harness: reconnect');
  },
  setActiveProject(project: string): void {
    store.getState().setActiveProject(project);
  },
  activeProject: (): string | null => store.getState().activeProject,
  syncStatus: (): string => engine.getSnapshot().syncStatus,
  stored: (): string | null => localStorage.getItem(engine.storageKey),
};
Object.assign(window, { harness });
