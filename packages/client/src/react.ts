// The React hooks (also the package's `./react` entry): persistence, the app-wide store
// and its selector hooks.
export {
  type UseDashboardStateWithPersistenceResult,
  type UseStatePersistenceOptions,
  type UseStatePersistenceResult,
  useDashboardStateWithPersistence,
  useStatePersistence,
} from './react/use-state-persistence.js';
export {
  useActivity,
  useAlerts,
  useErrors,
  useIsLoading,
  useMetrics,
  useProjectStatus,
} from './selectors.js';
export { useDashboardState } from './store.js';
