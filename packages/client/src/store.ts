// Kept in the emitted declarations: it registers the `subscribeWithSelector` mutator that
// `DashboardStoreApi` names (without it, a consumer's type checker sees `never`).
/// <reference types="zustand/middleware" preserve="true" />
// The dashboard store: a Zustand 5 store with `subscribeWithSelector`, holding one
// `DashboardState` plus the actions that change it. The vanilla factory serves
// non-React code and tests; `useDashboardState` is the app-wide instance for React.
import {
  type ActivityEntry,
  type ActivityWidget,
  type Alert,
  createInitialDashboardState,
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  type MetricsWidget,
  type ProjectStatus,
} from '@hyvve/schema';
import { create, type Mutate, type StoreApi, type UseBoundStore } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import { createStore, type StateCreator } from 'zustand/vanilla';

/** An alert as callers add it: `dismissable` and `dismissed` take their schema defaults. */
export type AlertInput = Omit<Alert, 'dismissable' | 'dismissed'> &
  Partial<Pick<Alert, 'dismissable' | 'dismissed'>>;

export interface DashboardActions {
  /** Replaces the whole state (hydration, cross-tab and server updates). Keeps its `timestamp`. */
  setFullState: (state: DashboardState) => void;
  setActiveProject: (projectId: string | null) => void;
  setProjectStatus: (status: ProjectStatus | null) => void;
  setMetrics: (metrics: MetricsWidget | null) => void;
  setActivity: (activity: ActivityWidget | null) => void;
  /** Adds an entry first (newest first), keeping at most MAX_ACTIVITIES. */
  addActivity: (entry: ActivityEntry) => void;
  /** Adds an alert first (replacing one with the same id), keeping at most MAX_ALERTS. */
  addAlert: (alert: AlertInput) => void;
  /** Marks a dismissable alert as dismissed. */
  dismissAlert: (alertId: string) => void;
  /** Transient: never persisted. */
  setLoading: (isLoading: boolean, agentIds?: string[]) => void;
  /** Transient: never persisted. `null` removes the agent's error. */
  setError: (agentId: string, message: string | null) => void;
  clearErrors: () => void;
  /** Back to an empty dashboard. */
  reset: () => void;
}

export type DashboardStore = DashboardState & DashboardActions;
/** The vanilla store API, with `subscribe(selector, listener, options?)` from `subscribeWithSelector`. */
export type DashboardStoreApi = Mutate<
  StoreApi<DashboardStore>,
  [['zustand/subscribeWithSelector', never]]
>;

export interface DashboardStoreOptions {
  /** State to start from. @default createInitialDashboardState() */
  initialState?: DashboardState;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

/** Picks the `DashboardState` fields out of the store (drops the actions). */
export function selectDashboardState(store: DashboardStore): DashboardState {
  const { version, timestamp, activeProject, widgets, loading, errors } = store;
  const state: DashboardState = { version, timestamp, activeProject, widgets, loading, errors };
  if (store.workspaceId !== undefined) state.workspaceId = store.workspaceId;
  if (store.userId !== undefined) state.userId = store.userId;
  return state;
}

function dashboardStoreCreator(
  options: DashboardStoreOptions,
): StateCreator<DashboardStore, [['zustand/subscribeWithSelector', never]]> {
  const now = options.now ?? (() => Date.now());
  return (set, get) => {
    // Strictly increasing, not just `now()`: a change made right after adopting a state
    // from a device whose clock runs ahead must still count as newer than that state,
    // or newer-wins would throw the local change away everywhere.
    const nextTimestamp = (): number => Math.max(now(), get().timestamp + 1);
    const setWidgets = (widgets: Partial<DashboardState['widgets']>): void =>
      set((s) => ({ widgets: { ...s.widgets, ...widgets }, timestamp: nextTimestamp() }));

    const actions: DashboardActions = {
      // Replaces rather than merges, so a field absent from `state` (e.g. `userId`) does
      // not survive from the previous one.
      setFullState: (state) => set({ ...state, ...actions }, true),
      setActiveProject: (activeProject) => set({ activeProject, timestamp: nextTimestamp() }),
      setProjectStatus: (projectStatus) => setWidgets({ projectStatus }),
      setMetrics: (metrics) => setWidgets({ metrics }),
      setActivity: (activity) => setWidgets({ activity }),
      addActivity: (entry) => {
        const current = get().widgets.activity;
        const activities = [entry, ...(current?.activities ?? [])].slice(0, MAX_ACTIVITIES);
        setWidgets({
          activity: { activities, hasMore: current?.hasMore ?? false, lastUpdated: now() },
        });
      },
      addAlert: (input) => {
        const alert: Alert = { dismissable: true, dismissed: false, ...input };
        const others = get().widgets.alerts.filter((a) => a.id !== alert.id);
        setWidgets({ alerts: [alert, ...others].slice(0, MAX_ALERTS) });
      },
      dismissAlert: (alertId) => {
        const alerts = get().widgets.alerts;
        const target = alerts.find((a) => a.id === alertId);
        if (!target?.dismissable || target.dismissed) return;
        setWidgets({
          alerts: alerts.map((a) => (a.id === alertId ? { ...a, dismissed: true } : a)),
        });
      },
      setLoading: (isLoading, agentIds = []) =>
        set({
          loading: isLoading
            ? { isLoading, loadingAgents: agentIds, startedAt: now() }
            : { isLoading, loadingAgents: agentIds },
          timestamp: nextTimestamp(),
        }),
      setError: (agentId, message) =>
        set((s) => {
          const errors = { ...s.errors };
          if (message === null) delete errors[agentId];
          else errors[agentId] = message;
          return { errors, timestamp: nextTimestamp() };
        }),
      clearErrors: () => set({ errors: {}, timestamp: nextTimestamp() }),
      reset: () => set({ ...createInitialDashboardState(nextTimestamp()), ...actions }, true),
    };
    return { ...(options.initialState ?? createInitialDashboardState(now())), ...actions };
  };
}

/** A new, independent dashboard store (vanilla: no React needed). */
export function createDashboardStore(options: DashboardStoreOptions = {}): DashboardStoreApi {
  return createStore<DashboardStore>()(subscribeWithSelector(dashboardStoreCreator(options)));
}

/** The app-wide dashboard store as a React hook (`useDashboardState(selector)`), with the store API attached. */
export const useDashboardState: UseBoundStore<DashboardStoreApi> = create<DashboardStore>()(
  subscribeWithSelector(dashboardStoreCreator({})),
);
