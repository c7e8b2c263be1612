import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  checkDashboardState,
  createInitialDashboardState,
  dashboardStateSchema,
  isCompleteDashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  type StateCheck,
} from '../src/index.js';

type Mutable = Record<string, unknown>;
type Mutation = (state: Mutable) => void;

/** A realistic state as the server receives it: parsed from JSON, every branch filled. */
function received(): Mutable {
  const state = makeState({ alerts: 3, activities: 3, metrics: 3 });
  state.workspaceId = 'acme';
  state.userId = 'user-1';
  state.loading = { isLoading: true, loadingAgents: ['agent-1'], startedAt: 5 };
  state.errors = { 'agent-1': 'boom' };
  return JSON.parse(JSON.stringify(state)) as Mutable;
}

function at(state: Mutable, path: string): Mutable {
  let value: unknown = state;
  if (path === '') return state;
  for (const part of path.split('.')) value = (value as Mutable)[part];
  return value as Mutable;
}

function set(path: string, value: unknown): Mutation {
  return (state) => {
    const parts = path.split('.');
    const key = parts.pop() as string;
    at(state, parts.join('.'))[key] = value;
  };
}

function remove(path: string): Mutation {
  return (state) => {
    const parts = path.split('.');
    const key = parts.pop() as string;
    delete at(state, parts.join('.'))[key];
  };
}

/** The claims every answer of the fast check makes about Zod's. */
function expectAgreesWithZod(input: unknown): StateCheck {
  const check = checkDashboardState(input);
  const zod = dashboardStateSchema.safeParse(input);
  if (check === 'valid') {
    expect(zod.success).toBe(true);
    // Nothing to copy: Zod's output equals the input, and so does its JSON.
    expect(zod.data).toEqual(input);
    expect(JSON.stringify(zod.data)).toHaveLength(JSON.stringify(input).length);
  } else if (check === 'invalid') {
    expect(zod.success).toBe(false);
  }
  expect(isCompleteDashboardState(input)).toBe(check === 'valid');
  return check;
}

// One entry per rule of the schema; each breaks exactly that rule.
const INVALID_FIELDS: Record<string, Mutation> = {
  'version is another literal': set('version', 2),
  'version is a string': set('version', '1'),
  'timestamp is negative': set('timestamp', -1),
  'timestamp is missing': remove('timestamp'),
  'timestamp is a string': set('timestamp', '5'),
  'activeProject is a number': set('activeProject', 5),
  'activeProject is missing': remove('activeProject'),
  'workspaceId breaks the id pattern': set('workspaceId', 'a:b'),
  'workspaceId is empty': set('workspaceId', ''),
  'userId is too long': set('userId', 'u'.repeat(129)),
  'userId is a number': set('userId', 7),
  'widgets is null': set('widgets', null),
  'widgets is an array': set('widgets', []),
  'projectStatus is missing': remove('widgets.projectStatus'),
  'projectStatus is a string': set('widgets.projectStatus', 'x'),
  'projectStatus.projectId is empty': set('widgets.projectStatus.projectId', ''),
  'projectStatus.name is null': set('widgets.projectStatus.name', null),
  'projectStatus.status is unknown': set('widgets.projectStatus.status', 'late'),
  'projectStatus.progress is above 100': set('widgets.projectStatus.progress', 100.5),
  'projectStatus.progress is below 0': set('widgets.projectStatus.progress', -0.5),
  'projectStatus.tasksCompleted is fractional': set('widgets.projectStatus.tasksCompleted', 1.5),
  'projectStatus.tasksCompleted is negative': set('widgets.projectStatus.tasksCompleted', -1),
  'projectStatus.tasksTotal is not a safe integer': set(
    'widgets.projectStatus.tasksTotal',
    2 ** 53,
  ),
  'projectStatus.lastUpdated is missing': remove('widgets.projectStatus.lastUpdated'),
  'projectStatus.summary is a number': set('widgets.projectStatus.summary', 1),
  'metrics is an array': set('widgets.metrics', []),
  'metrics.title is a number': set('widgets.metrics.title', 1),
  'metrics.metrics is missing': remove('widgets.metrics.metrics'),
  'metrics.period is null': set('widgets.metrics.period', null),
  'metrics.lastUpdated is missing': remove('widgets.metrics.lastUpdated'),
  'metric is null': set('widgets.metrics.metrics.1', null),
  'metric.id is empty': set('widgets.metrics.metrics.0.id', ''),
  'metric.label is missing': remove('widgets.metrics.metrics.0.label'),
  'metric.value is a boolean': set('widgets.metrics.metrics.0.value', true),
  'metric.unit is a number': set('widgets.metrics.metrics.0.unit', 1),
  'metric.trend is unknown': set('widgets.metrics.metrics.0.trend', 'sideways'),
  'metric.change is a string': set('widgets.metrics.metrics.0.change', '1'),
  'metric.changePercent is null': set('widgets.metrics.metrics.0.changePercent', null),
  'activity is a number': set('widgets.activity', 1),
  'activity.activities has too many entries': (state) => {
    const activities = at(state, 'widgets.activity.activities') as unknown as unknown[];
    const first = activities[0];
    at(state, 'widgets.activity').activities = Array.from({ length: MAX_ACTIVITIES + 1 }, () =>
      structuredClone(first),
    );
  },
  'activity.hasMore is a string': set('widgets.activity.hasMore', 'no'),
  'activity.lastUpdated is missing': remove('widgets.activity.lastUpdated'),
  'activity entry.id is missing': remove('widgets.activity.activities.0.id'),
  'activity entry.user is a number': set('widgets.activity.activities.0.user', 1),
  'activity entry.userAvatar is null': set('widgets.activity.activities.0.userAvatar', null),
  'activity entry.action is missing': remove('widgets.activity.activities.0.action'),
  'activity entry.target is a number': set('widgets.activity.activities.0.target', 1),
  'activity entry.timestamp is negative': set('widgets.activity.activities.0.timestamp', -5),
  'activity entry.projectId is a number': set('widgets.activity.activities.0.projectId', 1),
  'alerts is an object': set('widgets.alerts', {}),
  'alerts has too many entries': (state) => {
    const alerts = at(state, 'widgets.alerts') as unknown as unknown[];
    const first = alerts[0];
    at(state, 'widgets').alerts = Array.from({ length: MAX_ALERTS + 1 }, () =>
      structuredClone(first),
    );
  },
  'alert.id is empty': set('widgets.alerts.0.id', ''),
  'alert.type is unknown': set('widgets.alerts.2.type', 'fatal'),
  'alert.title is missing': remove('widgets.alerts.0.title'),
  'alert.message is a number': set('widgets.alerts.0.message', 1),
  'alert.timestamp is missing': remove('widgets.alerts.0.timestamp'),
  'alert.dismissable is a string': set('widgets.alerts.0.dismissable', 'yes'),
  'alert.dismissed is a number': set('widgets.alerts.0.dismissed', 0),
  'alert.actionLabel is a number': set('widgets.alerts.0.actionLabel', 1),
  'alert.actionUrl is null': set('widgets.alerts.0.actionUrl', null),
  'loading is missing': remove('loading'),
  'loading.isLoading is a string': set('loading.isLoading', 'false'),
  'loading.loadingAgents holds a number': set('loading.loadingAgents', ['a', 1]),
  'loading.startedAt is negative': set('loading.startedAt', -1),
  'errors is an array': set('errors', []),
  'errors holds a number': set('errors', { a: 1 }),
  'a number is NaN': set('widgets.metrics.metrics.0.change', Number.NaN),
  'a number is infinite': set('widgets.metrics.metrics.0.value', Number.POSITIVE_INFINITY),
};

// Each needs Zod to build the output (a default to apply, a key to strip).
const NEEDS_ZOD: Record<string, Mutation> = {
  'metrics.title is missing (default)': remove('widgets.metrics.title'),
  'activity.hasMore is missing (default)': remove('widgets.activity.hasMore'),
  'alert.dismissable is missing (default)': remove('widgets.alerts.1.dismissable'),
  'alert.dismissed is missing (default)': remove('widgets.alerts.2.dismissed'),
  'an unknown top-level key (stripped)': set('extra', 1),
  'an unknown widget key (stripped)': set('widgets.chart', null),
  'an unknown key in an alert (stripped)': set('widgets.alerts.0.color', 'red'),
  'an unknown key in loading (stripped)': set('loading.extra', true),
  'an optional key holding undefined': set('widgets.projectStatus.summary', undefined),
  'a non-plain object': (state) => {
    at(state, 'widgets').projectStatus = Object.assign(
      new (class ProjectStatus {})(),
      at(state, 'widgets.projectStatus'),
    );
  },
};

describe('checkDashboardState (fast, in place) agrees with dashboardStateSchema', () => {
  it('answers valid for complete states, which Zod returns unchanged', () => {
    expect(expectAgreesWithZod(received())).toBe('valid');
    expect(expectAgreesWithZod(makeState())).toBe('valid');
    expect(expectAgreesWithZod(createInitialDashboardState(1))).toBe('valid');
    expect(expectAgreesWithZod(makeState({ alerts: MAX_ALERTS }))).toBe('valid');
    expect(expectAgreesWithZod(makeState({ activities: MAX_ACTIVITIES }))).toBe('valid');
  });

  it('accepts the edges of each rule as Zod does', () => {
    const edges: Mutation[] = [
      set('timestamp', 0),
      set('activeProject', null),
      set('widgets.projectStatus', null),
      set('widgets.metrics', null),
      set('widgets.activity', null),
      set('widgets.alerts', []),
      set('widgets.projectStatus.progress', 100),
      set('widgets.projectStatus.tasksTotal', Number.MAX_SAFE_INTEGER),
      set('widgets.metrics.metrics.0.value', 'n/a'),
      set('widgets.metrics.metrics', []),
      set('workspaceId', 'a'.repeat(128)),
      remove('workspaceId'),
      remove('widgets.projectStatus.summary'),
      remove('loading.startedAt'),
      set('errors', {}),
    ];
    for (const edge of edges) {
      const state = received();
      edge(state);
      expect(expectAgreesWithZod(state)).toBe('valid');
    }
  });

  it('answers invalid for every kind of invalid field, as Zod does', () => {
    for (const [name, mutate] of Object.entries(INVALID_FIELDS)) {
      const state = received();
      mutate(state);
      expect({ name, check: expectAgreesWithZod(state) }).toEqual({ name, check: 'invalid' });
    }
  });

  it('leaves defaults, unknown keys and odd objects to Zod', () => {
    for (const [name, mutate] of Object.entries(NEEDS_ZOD)) {
      const state = received();
      mutate(state);
      expect({ name, check: expectAgreesWithZod(state) }).toEqual({ name, check: 'other' });
      expect(dashboardStateSchema.safeParse(state).success).toBe(true);
    }
  });

  it('answers invalid when a field is invalid even where a default is missing too', () => {
    const state = received();
    remove('widgets.alerts.0.dismissed')(state);
    set('widgets.projectStatus.progress', 101)(state);
    expect(expectAgreesWithZod(state)).toBe('invalid');
  });

  it('answers valid for a complete state whose objects have no prototype', () => {
    // JSON.parse with a reviver (or a structured clone of Object.create(null)) builds these.
    const bare = JSON.parse(JSON.stringify(received()), (_key, value: unknown) =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.assign(Object.create(null), value)
        : value,
    ) as Mutable;
    at(bare, 'errors').agent = 'failed';
    expect(Object.getPrototypeOf(at(bare, 'widgets'))).toBeNull();
    expect(Object.getPrototypeOf(at(bare, 'errors'))).toBeNull();
    expect(expectAgreesWithZod(bare)).toBe('valid');
  });

  it('leaves errors held in a class instance to Zod', () => {
    const state = received();
    state.errors = Object.assign(new (class Errors {})(), { agent: 'failed' });
    expect(expectAgreesWithZod(state)).toBe('other');
  });

  it('answers invalid for values that are not objects at all', () => {
    for (const input of [null, undefined, 42, 'state', [], true]) {
      expect(expectAgreesWithZod(input)).toBe('invalid');
    }
  });
});
