import type { DashboardState } from './dashboard-state.js';

/**
 * The state as it may be stored: transient parts (`loading`, `errors`) reset, so a
 * reload never shows a spinner or an error that belonged to a previous session.
 */
export function toPersistableState(state: DashboardState): DashboardState {
  return { ...state, loading: { isLoading: false, loadingAgents: [] }, errors: {} };
}
