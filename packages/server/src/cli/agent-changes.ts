// What the agent simulator writes: one realistic step of an agent working on a project
// (progress moves, a metric changes, an activity entry, now and then an alert), as a
// pure function of the current state so it can be tested without a server.
import {
  type ActivityEntry,
  type Alert,
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  type Metric,
  type MetricsWidget,
  type ProjectStatus,
  toPersistableState,
} from '@hyvve/schema';

export interface AgentStep {
  /** 0-based step number; picks which metric moves and whether an alert is raised. */
  step: number;
  /** Wall clock of the step, ms since epoch. */
  now: number;
  /** Name shown as the author of activity entries. */
  agent: string;
}

export interface AgentChange {
  state: DashboardState;
  /** One line saying what changed, for the log. */
  summary: string;
}

/** Every ALERT_EVERY-th step raises an alert. */
export const ALERT_EVERY = 3;

const DEFAULT_PROJECT: ProjectStatus = {
  projectId: 'proj-apollo',
  name: 'Apollo: customer portal relaunch',
  status: 'on-track',
  progress: 40,
  tasksCompleted: 20,
  tasksTotal: 50,
  lastUpdated: 0,
  summary: 'Agent-tracked: progress, metrics and activity are reported automatically.',
};

const DEFAULT_METRICS: readonly Metric[] = [
  { id: 'velocity', label: 'Velocity', value: 36, unit: 'pts', trend: 'neutral', changePercent: 0 },
  { id: 'open-issues', label: 'Open issues', value: 22, trend: 'neutral', changePercent: 0 },
  {
    id: 'cycle-time',
    label: 'Cycle time',
    value: 3.2,
    unit: 'days',
    trend: 'neutral',
    changePercent: 0,
  },
  {
    id: 'build-success',
    label: 'Build success',
    value: 94,
    unit: '%',
    trend: 'neutral',
    changePercent: 0,
  },
];

const TASKS = [
  'Payment retries',
  'Search relevance tuning',
  'Accessibility audit',
  'Nightly data export',
  'Session timeout bug',
  'Release checklist',
];
const ACTIONS = ['closed', 'triaged', 'reviewed', 'estimated', 'unblocked'];

const ALERTS: ReadonlyArray<Pick<Alert, 'type' | 'title' | 'message'>> = [
  {
    type: 'info',
    title: 'Sprint burndown updated',
    message: 'The agent re-estimated the remaining work.',
  },
  {
    type: 'warning',
    title: 'Review backlog growing',
    message: '6 pull requests wait for review for more than a day.',
  },
  { type: 'success', title: 'Nightly build green', message: 'All 1,284 tests passed on main.' },
  {
    type: 'error',
    title: 'Flaky test quarantined',
    message: 'checkout.spec failed 3 of the last 10 runs.',
  },
];

function pick<T>(items: readonly T[], index: number): T {
  const item = items[((index % items.length) + items.length) % items.length];
  if (item === undefined) throw new RangeError('pick() needs a non-empty list');
  return item;
}

function advanceProject(current: ProjectStatus | null, step: number, now: number): ProjectStatus {
  const project = current ?? { ...DEFAULT_PROJECT, lastUpdated: now };
  if (project.status === 'completed' || project.progress >= 100) {
    return { ...project, progress: 100, status: 'completed', lastUpdated: now };
  }
  const progress = Math.min(100, project.progress + 1 + (step % 3));
  const tasksTotal = Math.max(project.tasksTotal, 1);
  const tasksCompleted = Math.min(tasksTotal, Math.round((progress / 100) * tasksTotal));
  const status: ProjectStatus['status'] = progress >= 100 ? 'completed' : project.status;
  return { ...project, progress, tasksCompleted, tasksTotal, status, lastUpdated: now };
}

function roundLike(reference: number, value: number): number {
  return Number.isInteger(reference) ? Math.round(value) : Math.round(value * 10) / 10;
}

function moveMetric(metric: Metric, step: number): Metric {
  if (typeof metric.value !== 'number') return metric;
  const previous = metric.value;
  const up = step % 2 === 0;
  let next = roundLike(previous, previous * (up ? 1.05 : 0.97));
  if (next === previous) next = roundLike(previous, previous + (up ? 1 : -1));
  if (metric.unit === '%') next = Math.min(100, Math.max(0, next));
  const change = roundLike(previous, next - previous);
  const changePercent = previous === 0 ? 0 : Math.round((change / previous) * 1000) / 10;
  const trend: Metric['trend'] = change > 0 ? 'up' : change < 0 ? 'down' : 'neutral';
  return { ...metric, value: next, change, changePercent, trend };
}

function advanceMetrics(
  current: MetricsWidget | null,
  step: number,
  now: number,
): { widget: MetricsWidget; moved: Metric } {
  const base: MetricsWidget = current ?? {
    title: 'Key Metrics',
    metrics: DEFAULT_METRICS.map((m) => ({ ...m })),
    period: 'Last 14 days',
    lastUpdated: now,
  };
  const metrics = base.metrics.length > 0 ? base.metrics : DEFAULT_METRICS.map((m) => ({ ...m }));
  const index = step % metrics.length;
  const moved = moveMetric(pick(metrics, index), step);
  return {
    widget: {
      ...base,
      metrics: metrics.map((m, i) => (i === index ? moved : m)),
      lastUpdated: now,
    },
    moved,
  };
}

function formatMetric(metric: Metric): string {
  return `${metric.label} ${metric.value}${metric.unit ? ` ${metric.unit}` : ''}`;
}

/**
 * The state after one agent step. The timestamp moves strictly forward (so the server's
 * newer-wins accepts it even when the stored state came from a clock running ahead), and
 * transient parts are reset, as for every persisted state.
 */
export function applyAgentStep(
  state: DashboardState,
  { step, now, agent }: AgentStep,
): AgentChange {
  const timestamp = Math.max(now, state.timestamp + 1);
  const project = advanceProject(state.widgets.projectStatus, step, timestamp);
  const { widget: metrics, moved } = advanceMetrics(state.widgets.metrics, step, timestamp);

  const entry: ActivityEntry = {
    id: `agent-${timestamp.toString(36)}-${step}`,
    user: agent,
    action: pick(ACTIONS, step),
    target: pick(TASKS, step * 5),
    timestamp,
    projectId: project.projectId,
  };
  const activities = [entry, ...(state.widgets.activity?.activities ?? [])].slice(
    0,
    MAX_ACTIVITIES,
  );

  let alerts = state.widgets.alerts;
  let raised: Alert | null = null;
  if (step % ALERT_EVERY === ALERT_EVERY - 1) {
    raised = {
      id: `agent-alert-${timestamp.toString(36)}-${step}`,
      ...pick(ALERTS, Math.floor(step / ALERT_EVERY)),
      timestamp,
      dismissable: true,
      dismissed: false,
    };
    alerts = [raised, ...alerts].slice(0, MAX_ALERTS);
  }

  const next = toPersistableState({
    ...state,
    timestamp,
    activeProject: state.activeProject ?? project.projectId,
    widgets: {
      projectStatus: project,
      metrics,
      activity: {
        activities,
        hasMore: state.widgets.activity?.hasMore ?? false,
        lastUpdated: timestamp,
      },
      alerts,
    },
  });
  const parts = [
    `progress ${project.progress}%`,
    formatMetric(moved),
    `activity "${entry.user} ${entry.action} ${entry.target}"`,
  ];
  if (raised) parts.push(`alert "${raised.title}"`);
  return { state: next, summary: parts.join(', ') };
}
