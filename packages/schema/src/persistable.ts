import type { DashboardState } from './dashboard-state.js';

/**
 * The state as it may be stored: transient parts (`loading`, `errors`) reset, so a
 * reload never shows a spinner or an error that belonged to a previous session.
 */
export function toPersistableState(state: DashboardState): DashboardState {
  return { ...state, loading: { isLoading: false, loadingAgents: [] }, errors: {} };
}

/**
 * True when the state's transient parts are already as `toPersistableState` sets them
 * (`loading` idle with no agents and no start, no `errors`), so it can be stored as is
 * without a copy.
 */
export function isPersistableAsIs(state: DashboardState): boolean {
  const { loading, errors } = state;
  if (loading.isLoading || loading.loadingAgents.length > 0 || loading.startedAt !== undefined) {
    return false;
  }
  for (const _agent in errors) return false;
  return true;
}
