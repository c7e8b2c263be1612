// Our engine as a write-cost contender: the dashboard store with createStatePersistence
// at its defaults (1 s storage debounce, cross-tab sync on), no server.
import { createDashboardStore, createStatePersistence } from '@hyvve/client';
import type { DashboardState } from '@hyvve/schema';
import type { Contender } from './contenders.js';

export const OURS_STORAGE_KEY = 'bench-ours';

export async function startOursContender(initial: DashboardState): Promise<Contender> {
  const store = createDashboardStore({ initialState: initial });
  const engine = createStatePersistence(store, { storageKey: OURS_STORAGE_KEY });
  engine.start();
  // Whatever start-up writes belongs to start-up, not to the measured updates.
  engine.flush();
  return {
    getState: store.getState,
    setState: (partial) => store.setState(partial),
    dispose: async () => engine.stop(),
  };
}
