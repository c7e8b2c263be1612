// What the dashboard's controls write: a small catalogue of projects and realistic
// alerts, activity entries and metric changes, so a person can see restore and sync.

import type { AlertInput } from '@hyvve/client';
import type {
  ActivityEntry,
  AlertType,
  Metric,
  MetricsWidget,
  ProjectStatus,
  ProjectStatusValue,
} from '@hyvve/schema';

export interface ProjectTemplate {
  id: string;
  name: string;
  status: ProjectStatusValue;
  progress: number;
  tasksCompleted: number;
  tasksTotal: number;
  summary: string;
  metrics: readonly Metric[];
}

export const PROJECTS: readonly ProjectTemplate[] = [
  {
    id: 'proj-apollo',
    name: 'Apollo: customer portal relaunch',
    status: 'on-track',
    progress: 62,
    tasksCompleted: 31,
    tasksTotal: 50,
    summary: 'Launch readiness review is booked for Friday; payments and SSO are done.',
    metrics: [
      { id: 'velocity', label: 'Velocity', value: 42, unit: 'pts', trend: 'up', changePercent: 8 },
      { id: 'open-issues', label: 'Open issues', value: 17, trend: 'down', changePercent: -12 },
      {
        id: 'cycle-time',
        label: 'Cycle time',
        value: 2.4,
        unit: 'days',
        trend: 'down',
        changePercent: -5,
      },
      {
        id: 'build-success',
        label: 'Build success',
        value: 97,
        unit: '%',
        trend: 'neutral',
        changePercent: 0,
      },
    ],
  },
  {
    id: 'proj-borealis',
    name: 'Borealis: data platform migration',
    status: 'at-risk',
    progress: 41,
    tasksCompleted: 24,
    tasksTotal: 58,
    summary: 'Two ingestion jobs still read the legacy warehouse; cut-over may slip a week.',
    metrics: [
      {
        id: 'velocity',
        label: 'Velocity',
        value: 31,
        unit: 'pts',
        trend: 'down',
        changePercent: -9,
      },
      { id: 'open-issues', label: 'Open issues', value: 29, trend: 'up', changePercent: 14 },
      {
        id: 'cycle-time',
        label: 'Cycle time',
        value: 4.1,
        unit: 'days',
        trend: 'up',
        changePercent: 11,
      },
      {
        id: 'build-success',
        label: 'Build success',
        value: 91,
        unit: '%',
        trend: 'down',
        changePercent: -3,
      },
    ],
  },
  {
    id: 'proj-cassini',
    name: 'Cassini: mobile app 3.0',
    status: 'behind',
    progress: 28,
    tasksCompleted: 12,
    tasksTotal: 43,
    summary: 'Offline mode needs a redesign after the beta feedback; release moved to Q3.',
    metrics: [
      {
        id: 'velocity',
        label: 'Velocity',
        value: 24,
        unit: 'pts',
        trend: 'down',
        changePercent: -15,
      },
      { id: 'open-issues', label: 'Open issues', value: 38, trend: 'up', changePercent: 21 },
      {
        id: 'cycle-time',
        label: 'Cycle time',
        value: 5.6,
        unit: 'days',
        trend: 'up',
        changePercent: 9,
      },
      {
        id: 'build-success',
        label: 'Build success',
        value: 88,
        unit: '%',
        trend: 'neutral',
        changePercent: 0,
      },
    ],
  },
  {
    id: 'proj-daedalus',
    name: 'Daedalus: billing service hardening',
    status: 'completed',
    progress: 100,
    tasksCompleted: 36,
    tasksTotal: 36,
    summary: 'Shipped: idempotent invoices, retries with backoff, and a runbook for on-call.',
    metrics: [
      {
        id: 'velocity',
        label: 'Velocity',
        value: 38,
        unit: 'pts',
        trend: 'neutral',
        changePercent: 0,
      },
      { id: 'open-issues', label: 'Open issues', value: 2, trend: 'down', changePercent: -80 },
      {
        id: 'cycle-time',
        label: 'Cycle time',
        value: 1.8,
        unit: 'days',
        trend: 'down',
        changePercent: -22,
      },
      {
        id: 'build-success',
        label: 'Build success',
        value: 99,
        unit: '%',
        trend: 'up',
        changePercent: 2,
      },
    ],
  },
];

export function findProject(projectId: string | null): ProjectTemplate | undefined {
  return PROJECTS.find((p) => p.id === projectId);
}

/** Short unique id without `crypto.randomUUID` (missing on plain-http LAN origins). */
export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function projectStatusFor(project: ProjectTemplate, now: number): ProjectStatus {
  return {
    projectId: project.id,
    name: project.name,
    status: project.status,
    progress: project.progress,
    tasksCompleted: project.tasksCompleted,
    tasksTotal: project.tasksTotal,
    lastUpdated: now,
    summary: project.summary,
  };
}

export function metricsFor(project: ProjectTemplate, now: number): MetricsWidget {
  return {
    title: 'Key Metrics',
    metrics: project.metrics.map((m) => ({ ...m })),
    period: 'Last 14 days',
    lastUpdated: now,
  };
}

function roundLike(reference: number, value: number): number {
  return Number.isInteger(reference) ? Math.round(value) : Math.round(value * 10) / 10;
}

/**
 * Moves one numeric metric by a few percent (the one at `index`, wrapping), updating
 * its trend and change so the tile reads like a real measurement.
 */
export function nudgeMetric(widget: MetricsWidget, index: number, now: number): MetricsWidget {
  const numeric = widget.metrics
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => typeof m.value === 'number');
  const pick = numeric[((index % numeric.length) + numeric.length) % numeric.length];
  if (!pick) return { ...widget, lastUpdated: now };
  const previous = pick.m.value as number;
  const factor = 1 + (index % 2 === 0 ? 0.06 : -0.04);
  let next = roundLike(previous, previous * factor);
  if (next === previous) next = roundLike(previous, previous + (factor > 1 ? 1 : -1));
  if (pick.m.unit === '%') next = Math.max(0, Math.min(100, next));
  const change = roundLike(previous, next - previous);
  const changePercent = previous === 0 ? 0 : Math.round(((next - previous) / previous) * 1000) / 10;
  const trend: Metric['trend'] = change > 0 ? 'up' : change < 0 ? 'down' : 'neutral';
  const metrics = widget.metrics.map(
    (m, i): Metric => (i === pick.i ? { ...m, value: next, change, changePercent, trend } : m),
  );
  return { ...widget, metrics, lastUpdated: now };
}

const ACTIONS = ['completed', 'commented on', 'reviewed', 'opened', 'merged', 'estimated'];
const TARGETS = [
  'Checkout flow redesign',
  'API rate limits',
  'Onboarding emails',
  'Release notes 3.2',
  'Flaky end-to-end suite',
  'SSO for enterprise plans',
  'Dashboard empty states',
];

/** The `n`-th activity entry the signed-in person logs (varied but reproducible). */
export function activityFor(
  user: string,
  n: number,
  projectId: string | null,
  now: number,
): ActivityEntry {
  const entry: ActivityEntry = {
    id: newId('act'),
    user,
    action: ACTIONS[n % ACTIONS.length] ?? 'updated',
    target: TARGETS[(n * 3) % TARGETS.length] ?? 'a task',
    timestamp: now,
  };
  if (projectId !== null) entry.projectId = projectId;
  return entry;
}

const ALERTS: ReadonlyArray<{ type: AlertType; title: string; message: string }> = [
  {
    type: 'warning',
    title: 'Build queue is backing up',
    message: '14 jobs are waiting for a runner; median wait is 6 min.',
  },
  {
    type: 'error',
    title: 'Deploy to staging failed',
    message: 'Migration 0042 timed out after 120 s. The previous release is still live.',
  },
  {
    type: 'info',
    title: 'Sprint review tomorrow',
    message: 'Demo slots are open until 17:00. Add yours to the agenda.',
  },
  {
    type: 'success',
    title: 'Release 3.2 shipped',
    message: 'Rolled out to 100% of users with no error-rate change.',
  },
];

/** The `n`-th alert the controls add: cycles through the four alert types. */
export function alertFor(n: number, now: number): AlertInput {
  const template = ALERTS[n % ALERTS.length] ?? ALERTS[0];
  if (!template) throw new Error('alert templates are empty');
  return { id: newId('alert'), ...template, timestamp: now, dismissable: true };
}

/** The agent the "simulate" controls pretend is running. */
export const DEMO_AGENT_ID = 'insights-agent';
export const DEMO_AGENT_FAILURE =
  'Timed out after 30 s while fetching sprint data from the tracker.';
