// Builds realistic dashboard states for tests and benchmarks: makeState({ alerts: 50 }).
import {
  type Alert,
  createInitialDashboardState,
  type DashboardState,
  STATE_VERSION,
} from '@hyvve/schema';

export interface StateShape {
  /** Number of alerts (default 3). */
  alerts?: number;
  /** Number of activity entries (default 5). */
  activities?: number;
  /** Number of metrics (default 4). */
  metrics?: number;
  /** ms since epoch of the last change (default now). */
  timestamp?: number;
  activeProject?: string | null;
  /** Pads the project summary so the JSON reaches about this many bytes. */
  targetBytes?: number;
}

export function makeAlert(i: number, now = Date.now()): Alert {
  const types = ['error', 'warning', 'info', 'success'] as const;
  return {
    id: `alert-${i}`,
    type: types[i % types.length] ?? 'info',
    title: `Alert ${i}`,
    message: `Build ${1000 + i} needs attention in pipeline ${i % 7}`,
    timestamp: now - i * 1000,
    dismissable: true,
    dismissed: false,
  };
}

export function makeState(shape: StateShape = {}): DashboardState {
  const now = shape.timestamp ?? Date.now();
  const base = createInitialDashboardState(now);
  const state: DashboardState = {
    ...base,
    version: STATE_VERSION,
    activeProject: shape.activeProject === undefined ? 'proj-apollo' : shape.activeProject,
    widgets: {
      projectStatus: {
        projectId: 'proj-apollo',
        name: 'Apollo',
        status: 'on-track',
        progress: 62,
        tasksCompleted: 31,
        tasksTotal: 50,
        lastUpdated: now,
        summary: 'Launch readiness review scheduled for Friday.',
      },
      metrics: {
        title: 'Key Metrics',
        metrics: Array.from({ length: shape.metrics ?? 4 }, (_, i) => ({
          id: `metric-${i}`,
          label: `Metric ${i}`,
          value: i * 17.5,
          unit: '%',
          trend: (['up', 'down', 'neutral'] as const)[i % 3] ?? 'neutral',
          change: i,
          changePercent: i * 1.5,
        })),
        period: 'last 7 days',
        lastUpdated: now,
      },
      activity: {
        activities: Array.from({ length: shape.activities ?? 5 }, (_, i) => ({
          id: `activity-${i}`,
          user: `user-${i % 3}`,
          action: 'updated',
          target: `task-${i}`,
          timestamp: now - i * 60_000,
          projectId: 'proj-apollo',
        })),
        hasMore: false,
        lastUpdated: now,
      },
      alerts: Array.from({ length: shape.alerts ?? 3 }, (_, i) => makeAlert(i, now)),
    },
  };
  if (shape.targetBytes !== undefined) {
    const status = state.widgets.projectStatus;
    if (status) {
      const current = JSON.stringify(state).length - (status.summary ?? '').length;
      status.summary = 'x'.repeat(Math.max(0, shape.targetBytes - current));
    }
  }
  return state;
}
