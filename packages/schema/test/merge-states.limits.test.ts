// Merge properties the short generated lists of merge-states.test.ts cannot reach: lists
// over MAX_ALERTS / MAX_ACTIVITIES with shuffled timestamps (the newest items are kept,
// wherever they sit), the newer side winning a value or item changed on both sides, and
// the order of merged items (the newer side's order survives the merge and the limit).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  type ActivityEntry,
  type Alert,
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  type MergeOrder,
  mergeDashboardStates,
} from '../src/index.js';
import { T0, triple } from './support/merge-arbitraries.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface Stamped {
  id: string;
  timestamp: number;
}

/**
 * A base list and two sides that each remove some of its items and add their own, every
 * item with a distinct timestamp in random order, sized so the union often passes `limit`.
 */
function listsOverLimit(limit: number) {
  return fc
    .record({
      baseCount: fc.integer({ min: Math.floor(limit / 2), max: limit }),
      localAdds: fc.integer({ min: 0, max: Math.ceil(limit / 2) }),
      remoteAdds: fc.integer({ min: 0, max: Math.ceil(limit / 2) }),
    })
    .chain(({ baseCount, localAdds, remoteAdds }) => {
      const total = baseCount + localAdds + remoteAdds;
      return fc.record({
        baseCount: fc.constant(baseCount),
        localAdds: fc.constant(localAdds),
        stamps: fc.uniqueArray(fc.integer({ min: T0, max: T0 + 10_000_000 }), {
          minLength: total,
          maxLength: total,
        }),
        localRemoves: fc.subarray([...Array(baseCount).keys()], {
          maxLength: Math.min(5, baseCount),
        }),
        remoteRemoves: fc.subarray([...Array(baseCount).keys()], {
          maxLength: Math.min(5, baseCount),
        }),
        localNewer: fc.boolean(),
      });
    })
    .map(({ baseCount, localAdds, stamps, localRemoves, remoteRemoves, localNewer }) => {
      const items: Stamped[] = stamps.map((timestamp, i) => ({ id: `item-${i}`, timestamp }));
      const base = items.slice(0, baseCount);
      const local = [
        ...items.slice(baseCount, baseCount + localAdds),
        ...base.filter((_, i) => !localRemoves.includes(i)),
      ];
      const remote = [
        ...base.filter((_, i) => !remoteRemoves.includes(i)),
        ...items.slice(baseCount + localAdds),
      ];
      const removed = new Set([...localRemoves, ...remoteRemoves].map((i) => `item-${i}`));
      const survivors = items.filter((item) => !removed.has(item.id));
      return { base, local, remote, survivors, localNewer };
    });
}

/** The ids of the `limit` newest of `items` (timestamps are distinct). */
function newestIds(items: Stamped[], limit: number): string[] {
  return [...items]
    .sort((a, b) => b.timestamp - a.timestamp)
    .slice(0, limit)
    .map((item) => item.id)
    .sort();
}

/** `ids` keep their relative order in `merged` (those of them still present). */
function expectOrderKept(merged: readonly { id: string }[], side: readonly { id: string }[]) {
  const present = new Set(merged.map((item) => item.id));
  const sideOrder = side.map((item) => item.id).filter((id) => present.has(id));
  const sideIds = new Set(sideOrder);
  expect(merged.map((item) => item.id).filter((id) => sideIds.has(id))).toEqual(sideOrder);
}

function withLists(alerts: Stamped[], activities: Stamped[], at: number): DashboardState {
  const state = makeState({ timestamp: at, alerts: 0, activities: 0 });
  state.widgets.alerts = alerts.map(
    (item): Alert => ({
      ...item,
      type: 'info',
      title: item.id,
      message: '',
      dismissable: true,
      dismissed: false,
    }),
  );
  if (state.widgets.activity) {
    state.widgets.activity.activities = activities.map(
      (item): ActivityEntry => ({ ...item, user: 'ada', action: 'updated' }),
    );
  }
  return state;
}

const sidesOrder = (localNewer: boolean): MergeOrder => ({
  local: { basedOnRevision: localNewer ? 2 : 1 },
  remote: { basedOnRevision: localNewer ? 1 : 2 },
});

describe('mergeDashboardStates: lists over their limit', () => {
  it('keeps the newest alerts and activities, in merge order, whatever their positions', () => {
    fc.assert(
      fc.property(listsOverLimit(MAX_ALERTS), listsOverLimit(MAX_ACTIVITIES), (alerts, feed) => {
        const base = withLists(alerts.base, feed.base, T0);
        const local = withLists(alerts.local, feed.local, T0 + 1);
        const remote = withLists(alerts.remote, feed.remote, T0 + 2);
        const merged = mergeDashboardStates(base, local, remote, sidesOrder(alerts.localNewer));
        const cases = [
          [merged.widgets.alerts, alerts, MAX_ALERTS],
          [merged.widgets.activity?.activities ?? [], feed, MAX_ACTIVITIES],
        ] as const;
        for (const [kept, lists, limit] of cases) {
          expect(kept.length).toBe(Math.min(lists.survivors.length, limit));
          expect(kept.map((item) => item.id).sort()).toEqual(newestIds(lists.survivors, limit));
          // Both lists follow the alerts' newer side (one order per merge).
          const orderedBy = same(lists.base, lists.local)
            ? lists.remote
            : same(lists.base, lists.remote) || alerts.localNewer
              ? lists.local
              : lists.remote;
          expectOrderKept(kept, orderedBy);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reaches the limit in most runs (the generator is not vacuous)', () => {
    const over = fc
      .sample(listsOverLimit(MAX_ALERTS), { numRuns: 200 })
      .filter((lists) => lists.survivors.length > MAX_ALERTS);
    expect(over.length).toBeGreaterThan(40);
  });
});

/** The side a merge must treat as newer when their revisions differ. */
function newerOf<T>(order: MergeOrder, local: T, remote: T): T {
  return (order.local?.basedOnRevision ?? 0) > (order.remote?.basedOnRevision ?? 0)
    ? local
    : remote;
}

const distinctRevisions = fc
  .tuple(fc.nat(3), fc.nat(3), fc.constantFrom('a', 'b'), fc.constantFrom('a', 'b'))
  .filter(([a, b]) => a !== b)
  .map(
    ([a, b, originA, originB]): MergeOrder => ({
      local: { basedOnRevision: a, origin: originA },
      remote: { basedOnRevision: b, origin: originB },
    }),
  );

describe('mergeDashboardStates: conflicts and order', () => {
  it('ends with the newer side where both sides changed the same value or item', () => {
    fc.assert(
      fc.property(triple, distinctRevisions, ([base, local, remote], order) => {
        const merged = mergeDashboardStates(base, local, remote, order);
        const newer = newerOf(order, local, remote);
        const changedOnBoth = (pick: (state: DashboardState) => unknown) =>
          !same(pick(base), pick(local)) &&
          !same(pick(base), pick(remote)) &&
          !same(pick(local), pick(remote));
        if (changedOnBoth((state) => state.activeProject)) {
          expect(merged.activeProject).toEqual(newer.activeProject);
        }
        for (const alert of base.widgets.alerts) {
          const pick = (state: DashboardState) =>
            state.widgets.alerts.find((item) => item.id === alert.id);
          if (pick(local) && pick(remote) && changedOnBoth(pick)) {
            expect(pick(merged)).toEqual(pick(newer));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a one-sided list, else the newer side's order with the other's additions", () => {
    fc.assert(
      fc.property(triple, distinctRevisions, ([base, local, remote], order) => {
        const merged = mergeDashboardStates(base, local, remote, order);
        const newer = newerOf(order, local, remote);
        const [mine, theirs] = [local.widgets.alerts, remote.widgets.alerts];
        if (same(mine, theirs) || same(base.widgets.alerts, theirs)) {
          expect(merged.widgets.alerts).toEqual(mine);
          return;
        }
        if (same(base.widgets.alerts, mine)) {
          expect(merged.widgets.alerts).toEqual(theirs);
          return;
        }
        // Changed on both sides: the newer side's order.
        expectOrderKept(merged.widgets.alerts, newer.widgets.alerts);
        const older = newer === local ? remote : local;
        const known = new Set([...base.widgets.alerts, ...newer.widgets.alerts].map((a) => a.id));
        for (const added of older.widgets.alerts.filter((alert) => !known.has(alert.id))) {
          expect(merged.widgets.alerts).toContainEqual(added);
        }
      }),
      { numRuns: 300 },
    );
  });
});
