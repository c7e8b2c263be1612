// The stores a browser benchmark updates: no persistence (control), Zustand's own
// `persist` middleware (the baseline), and our engine. All receive the same updates.
import { type DashboardState, toPersistableState } from '@hyvve/schema';
import { createJSONStorage, persist } from 'zustand/middleware';
import { createStore } from 'zustand/vanilla';
import type { WriteCostKind } from './api.js';
import { startOursContender } from './ours-contender.js';

export interface Contender {
  getState(): DashboardState;
  setState(partial: Partial<DashboardState>): void;
  dispose(): Promise<void>;
}

export const BASELINE_STORAGE_KEY = 'bench-zustand-persist';

function control(initial: DashboardState): Contender {
  const store = createStore<DashboardState>()(() => initial);
  return { getState: store.getState, setState: (p) => store.setState(p), dispose: async () => {} };
}

/**
 * Zustand's documented setup: `persist` over localStorage through createJSONStorage, with
 * `partialize` leaving out the transient parts, as ours does.
 */
function zustandPersist(initial: DashboardState): Contender {
  const store = createStore<DashboardState>()(
    persist(() => initial, {
      name: BASELINE_STORAGE_KEY,
      storage: createJSONStorage(() => localStorage),
      partialize: (state) => toPersistableState(state),
    }),
  );
  return { getState: store.getState, setState: (p) => store.setState(p), dispose: async () => {} };
}

export async function startContender(
  kind: WriteCostKind,
  initial: DashboardState,
): Promise<Contender> {
  switch (kind) {
    case 'control':
      return control(initial);
    case 'zustand-persist':
      return zustandPersist(initial);
    case 'ours':
      return startOursContender(initial);
  }
}
