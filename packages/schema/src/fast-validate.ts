// An allocation-free check of a state against exactly the rules of `dashboardStateSchema`.
// Zod builds a validated copy of every object it checks, which the server's save path then
// pays for in garbage collection; most states arrive already complete (every default set,
// no unknown key), so the copy would equal the input. This check says when that is so,
// and Zod runs only otherwise (to apply defaults, strip keys, or name the failing path).
// Keep it in step with dashboard-state.ts: fast-validate.test.ts compares the two on
// chosen cases, fast-validate.property.test.ts on states generated from the schema.
// It vouches for data properties (what JSON.parse builds); a getter that answers one thing
// here and another to JSON.stringify later is in-process code's own business.
import { ID_PATTERN, MAX_ACTIVITIES, MAX_ALERTS, STATE_VERSION } from './constants.js';
import type { DashboardState } from './dashboard-state.js';

/**
 * - `valid`: the schema accepts the input and its output would equal it (nothing to copy);
 * - `invalid`: the schema rejects it (run Zod for the error's path and message);
 * - `other`: the schema would change it (defaults, unknown keys, non-plain objects, keys
 *   holding `undefined`): run Zod, whose answer decides.
 */
export type StateCheck = 'valid' | 'invalid' | 'other';

const VALID = 0;
const INVALID = 1;
const OTHER = 2;
type Verdict = typeof VALID | typeof INVALID | typeof OTHER;

type Fields = Record<string, unknown>;

const PROJECT_STATUSES: ReadonlySet<unknown> = new Set([
  'on-track',
  'at-risk',
  'behind',
  'completed',
]);
const TRENDS: ReadonlySet<unknown> = new Set(['up', 'down', 'neutral']);
const ALERT_TYPES: ReadonlySet<unknown> = new Set(['error', 'warning', 'info', 'success']);

const STATE_KEYS = keys(
  'version timestamp activeProject workspaceId userId widgets loading errors',
);
const WIDGETS_KEYS = keys('projectStatus metrics activity alerts');
const PROJECT_STATUS_KEYS = keys(
  'projectId name status progress tasksCompleted tasksTotal lastUpdated summary',
);
const METRICS_WIDGET_KEYS = keys('title metrics period lastUpdated');
const METRIC_KEYS = keys('id label value unit trend change changePercent');
const ACTIVITY_WIDGET_KEYS = keys('activities hasMore lastUpdated');
const ACTIVITY_KEYS = keys('id user userAvatar action target timestamp projectId');
const ALERT_KEYS = keys(
  'id type title message timestamp dismissable dismissed actionLabel actionUrl',
);
const LOADING_KEYS = keys('isLoading loadingAgents startedAt');

function keys(list: string): ReadonlySet<string> {
  return new Set(list.split(' '));
}

/** Checks `input` in place; see StateCheck. Never throws, allocates nothing. */
export function checkDashboardState(input: unknown): StateCheck {
  const verdict = checkState(input);
  return verdict === VALID ? 'valid' : verdict === INVALID ? 'invalid' : 'other';
}

/** True when the schema accepts `input` as it is, so it can be used without Zod's copy. */
export function isCompleteDashboardState(input: unknown): input is DashboardState {
  return checkState(input) === VALID;
}

// Zod's z.number() refuses NaN and ±Infinity; `.int()` means a safe integer.
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isTimestamp(value: unknown): boolean {
  return isNumber(value) && value >= 0;
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isId(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1;
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/**
 * What z.object would make of `value` before its fields are checked: INVALID for a
 * non-object, OTHER when its output would differ from it whatever the fields are (not a
 * plain object, or a key the schema does not know and would strip), else VALID.
 */
function objectShape(value: unknown, known: ReadonlySet<string>): Verdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return INVALID;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return OTHER;
  for (const key in value) {
    if (!known.has(key)) return OTHER;
  }
  return VALID;
}

/** Number of enumerable keys (for-in over a plain object: its own keys). */
function keyCount(value: object): number {
  let count = 0;
  for (const _key in value) count++;
  return count;
}

/**
 * Field checks below return INVALID on the first rule broken; a default to apply (a
 * missing key that has one) is OTHER, but only after every other rule passed, since
 * Zod fails the whole state for any broken rule.
 */
function fieldsDefined(fields: Fields, defined: number): Verdict {
  // A key present with `undefined` (kept by Zod, dropped by JSON) or a non-enumerable
  // one (copied by Zod, skipped by JSON) makes the counts differ: let Zod decide.
  return keyCount(fields) === defined ? VALID : OTHER;
}

function worst(a: Verdict, b: Verdict): Verdict {
  return a === INVALID || b === INVALID ? INVALID : a === OTHER || b === OTHER ? OTHER : VALID;
}

function countDefined(fields: Fields, names: readonly string[]): number {
  let defined = 0;
  for (const name of names) if (fields[name] !== undefined) defined++;
  return defined;
}

function checkState(input: unknown): Verdict {
  const shape = objectShape(input, STATE_KEYS);
  if (shape !== VALID) return shape;
  const state = input as Fields;
  if (state.version !== STATE_VERSION) return INVALID;
  if (!isTimestamp(state.timestamp)) return INVALID;
  if (state.activeProject !== null && typeof state.activeProject !== 'string') return INVALID;
  const { workspaceId, userId } = state;
  if (
    workspaceId !== undefined &&
    !(typeof workspaceId === 'string' && ID_PATTERN.test(workspaceId))
  ) {
    return INVALID;
  }
  if (userId !== undefined && !(typeof userId === 'string' && ID_PATTERN.test(userId))) {
    return INVALID;
  }
  let verdict = checkWidgets(state.widgets);
  if (verdict === INVALID) return INVALID;
  verdict = worst(verdict, checkLoading(state.loading));
  if (verdict === INVALID) return INVALID;
  verdict = worst(verdict, checkErrors(state.errors));
  if (verdict === INVALID) return INVALID;
  return worst(verdict, fieldsDefined(state, countDefined(state, STATE_FIELD_NAMES)));
}

const STATE_FIELD_NAMES = [...STATE_KEYS];
const WIDGETS_FIELD_NAMES = [...WIDGETS_KEYS];
const PROJECT_STATUS_FIELD_NAMES = [...PROJECT_STATUS_KEYS];
const METRICS_WIDGET_FIELD_NAMES = [...METRICS_WIDGET_KEYS];
const METRIC_FIELD_NAMES = [...METRIC_KEYS];
const ACTIVITY_WIDGET_FIELD_NAMES = [...ACTIVITY_WIDGET_KEYS];
const ACTIVITY_FIELD_NAMES = [...ACTIVITY_KEYS];
const ALERT_FIELD_NAMES = [...ALERT_KEYS];
const LOADING_FIELD_NAMES = [...LOADING_KEYS];

function checkWidgets(value: unknown): Verdict {
  const shape = objectShape(value, WIDGETS_KEYS);
  if (shape === INVALID) return INVALID;
  const widgets = value as Fields;
  let verdict: Verdict = shape;
  if (widgets.projectStatus !== null) {
    verdict = worst(verdict, checkProjectStatus(widgets.projectStatus));
    if (verdict === INVALID) return INVALID;
  }
  if (widgets.metrics !== null) {
    verdict = worst(verdict, checkMetricsWidget(widgets.metrics));
    if (verdict === INVALID) return INVALID;
  }
  if (widgets.activity !== null) {
    verdict = worst(verdict, checkActivityWidget(widgets.activity));
    if (verdict === INVALID) return INVALID;
  }
  const { alerts } = widgets;
  if (!Array.isArray(alerts) || alerts.length > MAX_ALERTS) return INVALID;
  for (let i = 0; i < alerts.length; i++) {
    verdict = worst(verdict, checkAlert(alerts[i]));
    if (verdict === INVALID) return INVALID;
  }
  return worst(verdict, fieldsDefined(widgets, countDefined(widgets, WIDGETS_FIELD_NAMES)));
}

function checkProjectStatus(value: unknown): Verdict {
  const shape = objectShape(value, PROJECT_STATUS_KEYS);
  if (shape === INVALID) return INVALID;
  const status = value as Fields;
  const { progress } = status;
  const valid =
    isId(status.projectId) &&
    typeof status.name === 'string' &&
    PROJECT_STATUSES.has(status.status) &&
    isNumber(progress) &&
    progress >= 0 &&
    progress <= 100 &&
    isCount(status.tasksCompleted) &&
    isCount(status.tasksTotal) &&
    isTimestamp(status.lastUpdated) &&
    isOptionalString(status.summary);
  if (!valid) return INVALID;
  return worst(shape, fieldsDefined(status, countDefined(status, PROJECT_STATUS_FIELD_NAMES)));
}

function checkMetricsWidget(value: unknown): Verdict {
  const shape = objectShape(value, METRICS_WIDGET_KEYS);
  if (shape === INVALID) return INVALID;
  const widget = value as Fields;
  const { title, metrics } = widget;
  if (title !== undefined && typeof title !== 'string') return INVALID;
  if (!isOptionalString(widget.period) || !isTimestamp(widget.lastUpdated)) return INVALID;
  if (!Array.isArray(metrics)) return INVALID;
  let verdict: Verdict = shape;
  for (let i = 0; i < metrics.length; i++) {
    verdict = worst(verdict, checkMetric(metrics[i]));
    if (verdict === INVALID) return INVALID;
  }
  // `title` has a default: a missing one is filled in by Zod.
  if (title === undefined) return OTHER;
  return worst(verdict, fieldsDefined(widget, countDefined(widget, METRICS_WIDGET_FIELD_NAMES)));
}

function checkMetric(value: unknown): Verdict {
  const shape = objectShape(value, METRIC_KEYS);
  if (shape === INVALID) return INVALID;
  const metric = value as Fields;
  const { value: metricValue, trend, change, changePercent } = metric;
  const valid =
    isId(metric.id) &&
    typeof metric.label === 'string' &&
    (isNumber(metricValue) || typeof metricValue === 'string') &&
    isOptionalString(metric.unit) &&
    (trend === undefined || TRENDS.has(trend)) &&
    (change === undefined || isNumber(change)) &&
    (changePercent === undefined || isNumber(changePercent));
  if (!valid) return INVALID;
  return worst(shape, fieldsDefined(metric, countDefined(metric, METRIC_FIELD_NAMES)));
}

function checkActivityWidget(value: unknown): Verdict {
  const shape = objectShape(value, ACTIVITY_WIDGET_KEYS);
  if (shape === INVALID) return INVALID;
  const widget = value as Fields;
  const { activities, hasMore } = widget;
  if (hasMore !== undefined && typeof hasMore !== 'boolean') return INVALID;
  if (!isTimestamp(widget.lastUpdated)) return INVALID;
  if (!Array.isArray(activities) || activities.length > MAX_ACTIVITIES) return INVALID;
  let verdict: Verdict = shape;
  for (let i = 0; i < activities.length; i++) {
    verdict = worst(verdict, checkActivity(activities[i]));
    if (verdict === INVALID) return INVALID;
  }
  if (hasMore === undefined) return OTHER;
  return worst(verdict, fieldsDefined(widget, countDefined(widget, ACTIVITY_WIDGET_FIELD_NAMES)));
}

function checkActivity(value: unknown): Verdict {
  const shape = objectShape(value, ACTIVITY_KEYS);
  if (shape === INVALID) return INVALID;
  const entry = value as Fields;
  const valid =
    isId(entry.id) &&
    typeof entry.user === 'string' &&
    isOptionalString(entry.userAvatar) &&
    typeof entry.action === 'string' &&
    isOptionalString(entry.target) &&
    isTimestamp(entry.timestamp) &&
    isOptionalString(entry.projectId);
  if (!valid) return INVALID;
  return worst(shape, fieldsDefined(entry, countDefined(entry, ACTIVITY_FIELD_NAMES)));
}

function checkAlert(value: unknown): Verdict {
  const shape = objectShape(value, ALERT_KEYS);
  if (shape === INVALID) return INVALID;
  const alert = value as Fields;
  const { dismissable, dismissed } = alert;
  const valid =
    isId(alert.id) &&
    ALERT_TYPES.has(alert.type) &&
    typeof alert.title === 'string' &&
    typeof alert.message === 'string' &&
    isTimestamp(alert.timestamp) &&
    (dismissable === undefined || typeof dismissable === 'boolean') &&
    (dismissed === undefined || typeof dismissed === 'boolean') &&
    isOptionalString(alert.actionLabel) &&
    isOptionalString(alert.actionUrl);
  if (!valid) return INVALID;
  if (dismissable === undefined || dismissed === undefined) return OTHER;
  return worst(shape, fieldsDefined(alert, countDefined(alert, ALERT_FIELD_NAMES)));
}

function checkLoading(value: unknown): Verdict {
  const shape = objectShape(value, LOADING_KEYS);
  if (shape === INVALID) return INVALID;
  const loading = value as Fields;
  const { loadingAgents, startedAt } = loading;
  if (typeof loading.isLoading !== 'boolean' || !Array.isArray(loadingAgents)) return INVALID;
  if (startedAt !== undefined && !isTimestamp(startedAt)) return INVALID;
  for (let i = 0; i < loadingAgents.length; i++) {
    if (typeof loadingAgents[i] !== 'string') return INVALID;
  }
  return worst(shape, fieldsDefined(loading, countDefined(loading, LOADING_FIELD_NAMES)));
}

function checkErrors(value: unknown): Verdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return INVALID;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return OTHER;
  const errors = value as Fields;
  for (const key in errors) {
    if (typeof errors[key] !== 'string') return INVALID;
  }
  return VALID;
}
