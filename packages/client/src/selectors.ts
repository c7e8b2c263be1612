// Selectors over the dashboard store, and React hooks bound to the app-wide store.
// Each selector returns a value kept by reference in the store, so components
// re-render only when that slice really changed.
import type {
  ActivityWidget,
  Alert,
  DashboardState,
  MetricsWidget,
  ProjectStatus,
} from '@hyvve/schema';
import { type DashboardStore, useDashboardState } from './store.js';

export const selectProjectStatus = (s: DashboardStore): ProjectStatus | null =>
  s.widgets.projectStatus;
export const selectMetrics = (s: DashboardStore): MetricsWidget | null => s.widgets.metrics;
export const selectActivity = (s: DashboardStore): ActivityWidget | null => s.widgets.activity;
export const selectAlerts = (s: DashboardStore): Alert[] => s.widgets.alerts;
export const selectIsLoading = (s: DashboardStore): boolean => s.loading.isLoading;
export const selectErrors = (s: DashboardStore): DashboardState['errors'] => s.errors;

export const useProjectStatus = (): ProjectStatus | null => useDashboardState(selectProjectStatus);
export const useMetrics = (): MetricsWidget | null => useDashboardState(selectMetrics);
export const useActivity = (): ActivityWidget | null => useDashboardState(selectActivity);
export const useAlerts = (): Alert[] => useDashboardState(selectAlerts);
export const useIsLoading = (): boolean => useDashboardState(selectIsLoading);
export const useErrors = (): DashboardState['errors'] => useDashboardState(selectErrors);
