// `dashboardStateSchema.safeParse` without Zod's runtime, for the browser: the same
// answer (accepted or refused), the same output (defaults applied, unknown keys stripped,
// keys in the schema's order) and the same issues (paths and messages, in Zod's order and
// wording), so a refused state is named as precisely as before. Zod stays the source of
// truth: dashboard-state.ts is the schema, and parse-state.property.test.ts holds this
// equal to it on states generated from that schema. Keep the two in step.
import { MAX_ACTIVITIES, MAX_ALERTS, STATE_VERSION } from './constants.js';
import type { DashboardState } from './dashboard-state.js';
import {
  array,
  boolean,
  count,
  finiteNumber,
  Issues,
  id,
  idPattern,
  literal,
  nullable,
  numberOrString,
  object,
  oneOf,
  optional,
  percent,
  required,
  string,
  stringRecord,
  timestamp,
  withDefault,
} from './schema-parsers.js';
import type { ValidationIssue, ValidationResult } from './validation-result.js';
import { formatPath } from './validation-result.js';

// ---- the schema (dashboard-state.ts, rule for rule) ----

const projectStatus = object({
  projectId: required(id),
  name: required(string),
  status: required(oneOf(['on-track', 'at-risk', 'behind', 'completed'])),
  progress: required(percent),
  tasksCompleted: required(count),
  tasksTotal: required(count),
  lastUpdated: required(timestamp),
  summary: optional(string),
});

const metric = object({
  id: required(id),
  label: required(string),
  value: required(numberOrString),
  unit: optional(string),
  trend: optional(oneOf(['up', 'down', 'neutral'])),
  change: optional(finiteNumber),
  changePercent: optional(finiteNumber),
});

const metricsWidget = object({
  title: withDefault(string, 'Key Metrics'),
  metrics: required(array(metric)),
  period: optional(string),
  lastUpdated: required(timestamp),
});

const activityEntry = object({
  id: required(id),
  user: required(string),
  userAvatar: optional(string),
  action: required(string),
  target: optional(string),
  timestamp: required(timestamp),
  projectId: optional(string),
});

const activityWidget = object({
  activities: required(array(activityEntry, MAX_ACTIVITIES)),
  hasMore: withDefault(boolean, false),
  lastUpdated: required(timestamp),
});

const alert = object({
  id: required(id),
  type: required(oneOf(['error', 'warning', 'info', 'success'])),
  title: required(string),
  message: required(string),
  timestamp: required(timestamp),
  dismissable: withDefault(boolean, true),
  dismissed: withDefault(boolean, false),
  actionLabel: optional(string),
  actionUrl: optional(string),
});

const loadingState = object({
  isLoading: required(boolean),
  loadingAgents: required(array(string)),
  startedAt: optional(timestamp),
});

const dashboardState = object({
  version: required(literal(STATE_VERSION)),
  timestamp: required(timestamp),
  activeProject: required(nullable(string)),
  workspaceId: optional(idPattern),
  userId: optional(idPattern),
  widgets: required(
    object({
      projectStatus: required(nullable(projectStatus)),
      metrics: required(nullable(metricsWidget)),
      activity: required(nullable(activityWidget)),
      alerts: required(array(alert, MAX_ALERTS)),
    }),
  ),
  loading: required(loadingState),
  errors: required(stringRecord(string)),
});

/**
 * Validates a current-version state as `dashboardStateSchema.safeParse` does (a new
 * object, defaults applied, unknown keys dropped), without Zod. Never throws.
 */
export function parseDashboardState(input: unknown): ValidationResult<DashboardState> {
  const issues = new Issues();
  const data = dashboardState(input, [], issues);
  if (issues.list.length === 0) return { success: true, data: data as DashboardState };
  const named: ValidationIssue[] = issues.list.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const first = named[0] as ValidationIssue;
  return {
    success: false,
    error: { message: `${first.path}: ${first.message}`, path: first.path, issues: named },
  };
}
