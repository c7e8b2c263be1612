// fast-check arbitraries for the three-way merge properties: a base state and two sides
// derived from it (each part kept or replaced, lists edited item by item), and merge orders.
// Lists stay short here (ids from a pool of 6) so conflicts on the same id are frequent;
// merge-states.limits.test.ts builds the long lists that reach MAX_ALERTS / MAX_ACTIVITIES.
import fc from 'fast-check';
import type { Alert, DashboardState, MergeOrder } from '../../src/index.js';

export const T0 = 1_700_000_000_000;
export const ids = (prefix: string) =>
  fc.constantFrom(...[0, 1, 2, 3, 4, 5].map((i) => `${prefix}-${i}`));
export const timestamp = fc.integer({ min: T0, max: T0 + 1_000_000 });

export const alertArb = fc.record({
  id: ids('alert'),
  type: fc.constantFrom('error', 'warning', 'info', 'success') as fc.Arbitrary<Alert['type']>,
  title: fc.string({ maxLength: 8 }),
  message: fc.string({ maxLength: 8 }),
  timestamp,
  dismissable: fc.boolean(),
  dismissed: fc.boolean(),
});
export const activityArb = fc.record({
  id: ids('activity'),
  user: fc.constantFrom('ada', 'bea'),
  action: fc.string({ maxLength: 8 }),
  timestamp,
});
export const metricArb = fc.record({
  id: ids('metric'),
  label: fc.string({ maxLength: 6 }),
  value: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })),
});
export const uniqueById = <T extends { id: string }>(item: fc.Arbitrary<T>) =>
  fc.uniqueArray(item, { selector: (entry) => entry.id, maxLength: 6 });

export const stateArb: fc.Arbitrary<DashboardState> = fc.record({
  version: fc.constant(1 as const),
  timestamp,
  activeProject: fc.option(fc.constantFrom('p-1', 'p-2', 'p-3'), { nil: null }),
  widgets: fc.record({
    projectStatus: fc.option(
      fc.record({
        projectId: fc.constantFrom('p-1', 'p-2'),
        name: fc.constantFrom('Apollo', 'Zeus'),
        status: fc.constantFrom('on-track', 'at-risk', 'behind', 'completed') as fc.Arbitrary<
          'on-track' | 'at-risk' | 'behind' | 'completed'
        >,
        progress: fc.integer({ min: 0, max: 100 }),
        tasksCompleted: fc.nat(20),
        tasksTotal: fc.nat(20),
        lastUpdated: timestamp,
      }),
      { nil: null },
    ),
    metrics: fc.option(
      fc.record({
        title: fc.constantFrom('Key Metrics', 'KPIs'),
        metrics: uniqueById(metricArb),
        lastUpdated: timestamp,
      }),
      { nil: null },
    ),
    activity: fc.option(
      fc.record({
        activities: uniqueById(activityArb),
        hasMore: fc.boolean(),
        lastUpdated: timestamp,
      }),
      { nil: null },
    ),
    alerts: uniqueById(alertArb),
  }),
  loading: fc.constant({ isLoading: false, loadingAgents: [] }),
  errors: fc.constant({}),
});

/** A side derived from base: each part either kept as in base or replaced by a random one. */
export function sideOf(base: DashboardState): fc.Arbitrary<DashboardState> {
  const keepOr = <T>(kept: T, changed: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 2, arbitrary: fc.constant(kept) }, { weight: 1, arbitrary: changed });
  return stateArb.chain((random) =>
    fc.record({
      version: fc.constant(base.version),
      timestamp,
      activeProject: keepOr(base.activeProject, fc.constant(random.activeProject)),
      widgets: fc.record({
        projectStatus: keepOr(
          base.widgets.projectStatus,
          fc.constant(random.widgets.projectStatus),
        ),
        metrics: keepOr(base.widgets.metrics, fc.constant(random.widgets.metrics)),
        activity: keepOr(base.widgets.activity, fc.constant(random.widgets.activity)),
        alerts: keepOr(base.widgets.alerts, editedList(base.widgets.alerts, alertArb)),
      }),
      loading: fc.constant(base.loading),
      errors: fc.constant(base.errors),
    }),
  );
}

/** A list with some items dropped, some replaced, some added (ids stay unique). */
export function editedList<T extends { id: string }>(
  items: T[],
  item: fc.Arbitrary<T>,
): fc.Arbitrary<T[]> {
  return fc
    .tuple(
      fc.array(fc.constantFrom('keep', 'drop', 'change'), {
        minLength: items.length,
        maxLength: items.length,
      }),
      uniqueById(item),
      fc.array(item, { minLength: items.length, maxLength: items.length }),
    )
    .map(([actions, added, replacements]) => {
      const kept: T[] = [];
      items.forEach((original, index) => {
        const action = actions[index];
        if (action === 'keep') kept.push(original);
        else if (action === 'change') kept.push({ ...(replacements[index] as T), id: original.id });
      });
      const present = new Set(kept.map((entry) => entry.id));
      return [...added.filter((entry) => !present.has(entry.id)), ...kept];
    });
}

export const triple = stateArb.chain((base) =>
  fc.tuple(fc.constant(base), sideOf(base), sideOf(base)),
);
export const orderArb: fc.Arbitrary<MergeOrder> = fc.record({
  local: fc.record({ basedOnRevision: fc.nat(3), origin: fc.constantFrom('a', 'b') }),
  remote: fc.record({ basedOnRevision: fc.nat(3), origin: fc.constantFrom('a', 'b') }),
});
