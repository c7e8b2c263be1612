// In-page half of the propagation benchmark: a dashboard store with our persistence
// (cross-tab sync on, and server sync when given); the sender makes numbered changes
// (activeProject = mark-N), the receiver notes when each one reaches its store.
import {
  createDashboardStore,
  createStatePersistence,
  type DashboardStoreApi,
  type StatePersistence,
} from '@hyvve/client';
import type { PropagationSetup } from './api.js';

const MARK = /^mark-(\d+)$/;
const READY_TIMEOUT_MS = 15_000;

let store: DashboardStoreApi | null = null;
const received: Record<number, number> = {};

const preciseNow = (): number => performance.timeOrigin + performance.now();

function isReady(setup: PropagationSetup, current: StatePersistence): boolean {
  const snapshot = current.getSnapshot();
  return snapshot.isInitialized && (!setup.server || snapshot.syncStatus === 'synced');
}

export async function propagationStart(setup: PropagationSetup): Promise<{ syncStatus: string }> {
  const server = setup.server;
  store = createDashboardStore();
  const current = createStatePersistence(store, {
    storageKey: setup.storageKey,
    ...(server ? { server: { url: server.url, getToken: () => server.token } } : {}),
  });
  store.subscribe((state) => {
    const match = MARK.exec(state.activeProject ?? '');
    const marker = Number(match?.[1]);
    if (match && received[marker] === undefined) received[marker] = preciseNow();
  });
  current.start();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!isReady(setup, current)) {
    if (Date.now() > deadline) {
      throw new Error(
        `not ready after ${READY_TIMEOUT_MS} ms: ${JSON.stringify(current.getSnapshot())}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { syncStatus: current.getSnapshot().syncStatus };
}

export function propagationSend(marker: number): number {
  if (!store) throw new Error('propagationStart first');
  const sentAt = preciseNow();
  store.getState().setActiveProject(`mark-${marker}`);
  return sentAt;
}

export function propagationReceived(): Record<number, number> {
  return { ...received };
}
