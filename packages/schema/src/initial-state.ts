import { STATE_VERSION } from './constants.js';
import type { DashboardState } from './dashboard-state.js';

/** A fresh, empty dashboard. `now` is injectable for tests. */
export function createInitialDashboardState(now: number = Date.now()): DashboardState {
  return {
    version: STATE_VERSION,
    timestamp: now,
    activeProject: null,
    widgets: { projectStatus: null, metrics: null, activity: null, alerts: [] },
    loading: { isLoading: false, loadingAgents: [] },
    errors: {},
  };
}
