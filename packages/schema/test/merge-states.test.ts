import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAlert, makeState } from '../../../test-support/fixtures.js';
import {
  type ActivityEntry,
  type Alert,
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  type MergeOrder,
  type Metric,
  mergeDashboardStates,
  validateDashboardState,
} from '../src/index.js';
import { orderArb, T0, triple } from './support/merge-arbitraries.js';

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** `state` changed by `edit` (on a copy) with a later timestamp. */
function edited(
  state: DashboardState,
  at: number,
  edit: (draft: DashboardState) => void,
): DashboardState {
  const draft = clone(state);
  edit(draft);
  draft.timestamp = at;
  return draft;
}

function alertById(state: DashboardState, id: string): Alert | undefined {
  return state.widgets.alerts.find((alert) => alert.id === id);
}

function activity(id: string, timestamp: number): ActivityEntry {
  return { id, user: 'bea', action: 'commented on', target: 'task-9', timestamp };
}

describe('mergeDashboardStates: the rule table', () => {
  const base = makeState({ timestamp: T0, alerts: 3, activities: 3, metrics: 3 });

  it('keeps a dismissal on one side and new activity on the other (the issue scenario)', () => {
    const deviceA = edited(base, T0 + 1000, (draft) => {
      const alert = draft.widgets.alerts[1];
      if (alert) alert.dismissed = true;
    });
    const deviceB = edited(base, T0 + 5000, (draft) => {
      draft.widgets.activity?.activities.unshift(activity('b-1', T0 + 4000));
    });
    for (const merged of [
      mergeDashboardStates(base, deviceB, deviceA),
      mergeDashboardStates(base, deviceA, deviceB),
    ]) {
      expect(alertById(merged, 'alert-1')?.dismissed).toBe(true);
      expect(merged.widgets.activity?.activities.map((entry) => entry.id)).toEqual([
        'b-1',
        'activity-0',
        'activity-1',
        'activity-2',
      ]);
      expect(merged.timestamp).toBe(T0 + 5000);
    }
  });

  it('removes an item removed on one side even when the other side changed it', () => {
    const removed = edited(base, T0 + 1000, (draft) => {
      draft.widgets.alerts = draft.widgets.alerts.filter((alert) => alert.id !== 'alert-0');
    });
    const changed = edited(base, T0 + 2000, (draft) => {
      const alert = draft.widgets.alerts[0];
      if (alert) alert.title = 'Renamed';
    });
    expect(alertById(mergeDashboardStates(base, removed, changed), 'alert-0')).toBeUndefined();
    expect(alertById(mergeDashboardStates(base, changed, removed), 'alert-0')).toBeUndefined();
  });

  it('takes the newer side for an item or value changed on both sides', () => {
    const older = edited(base, T0 + 1000, (draft) => {
      draft.activeProject = 'proj-older';
      const metric = draft.widgets.metrics?.metrics[0];
      if (metric) metric.value = 1;
    });
    const newer = edited(base, T0 + 2000, (draft) => {
      draft.activeProject = 'proj-newer';
      const metric = draft.widgets.metrics?.metrics[0];
      if (metric) metric.value = 2;
    });
    for (const merged of [
      mergeDashboardStates(base, older, newer),
      mergeDashboardStates(base, newer, older),
    ]) {
      expect(merged.activeProject).toBe('proj-newer');
      expect(merged.widgets.metrics?.metrics[0]?.value).toBe(2);
    }
  });

  it('orders by the revision a change was based on before the clock (skewed clocks)', () => {
    // The remote change was made after seeing revision 7; the local one only saw 5, on a
    // device whose clock runs an hour ahead.
    const fastClock = edited(base, T0 + 3_600_000, (draft) => {
      draft.activeProject = 'proj-fast-clock';
    });
    const sawMore = edited(base, T0 + 1000, (draft) => {
      draft.activeProject = 'proj-saw-more';
    });
    const order: MergeOrder = { local: { basedOnRevision: 5 }, remote: { basedOnRevision: 7 } };
    expect(mergeDashboardStates(base, fastClock, sawMore, order).activeProject).toBe(
      'proj-saw-more',
    );
  });

  it('breaks a timestamp tie by origin, then by content, the same way on both sides', () => {
    const one = edited(base, T0 + 1000, (draft) => {
      draft.activeProject = 'one';
    });
    const two = edited(base, T0 + 1000, (draft) => {
      draft.activeProject = 'two';
    });
    const byOrigin: MergeOrder = { local: { origin: 'tab-a' }, remote: { origin: 'tab-b' } };
    const swapped: MergeOrder = { local: { origin: 'tab-b' }, remote: { origin: 'tab-a' } };
    expect(mergeDashboardStates(base, one, two, byOrigin).activeProject).toBe('two');
    expect(mergeDashboardStates(base, two, one, swapped).activeProject).toBe('two');
    expect(mergeDashboardStates(base, one, two).activeProject).toBe(
      mergeDashboardStates(base, two, one).activeProject,
    );
  });

  it('keeps items both sides added, and merges widgets both sides created', () => {
    const empty = { ...clone(base), widgets: { ...base.widgets, metrics: null, alerts: [] } };
    const metric = (id: string, value: number): Metric => ({ id, label: id, value });
    const local = edited(empty, T0 + 1000, (draft) => {
      draft.widgets.metrics = { title: 'Mine', metrics: [metric('m-a', 1)], lastUpdated: 1 };
      draft.widgets.alerts = [makeAlert(100, T0)];
    });
    const remote = edited(empty, T0 + 2000, (draft) => {
      draft.widgets.metrics = { title: 'Theirs', metrics: [metric('m-b', 2)], lastUpdated: 2 };
      draft.widgets.alerts = [makeAlert(200, T0)];
    });
    const merged = mergeDashboardStates(empty, local, remote);
    expect(merged.widgets.metrics?.title).toBe('Theirs');
    expect(merged.widgets.metrics?.metrics.map((m) => m.id).sort()).toEqual(['m-a', 'm-b']);
    expect(merged.widgets.alerts.map((a) => a.id).sort()).toEqual(['alert-100', 'alert-200']);
  });

  it('merges project status field by field for the same project, as a whole for another', () => {
    const progress = edited(base, T0 + 1000, (draft) => {
      if (draft.widgets.projectStatus) draft.widgets.projectStatus.progress = 90;
    });
    const status = edited(base, T0 + 2000, (draft) => {
      if (draft.widgets.projectStatus) draft.widgets.projectStatus.status = 'at-risk';
    });
    const merged = mergeDashboardStates(base, progress, status);
    expect(merged.widgets.projectStatus).toMatchObject({ progress: 90, status: 'at-risk' });
    const otherProject = edited(base, T0 + 3000, (draft) => {
      draft.widgets.projectStatus = {
        projectId: 'proj-zeus',
        name: 'Zeus',
        status: 'behind',
        progress: 10,
        tasksCompleted: 1,
        tasksTotal: 10,
        lastUpdated: T0,
      };
    });
    expect(mergeDashboardStates(base, progress, otherProject).widgets.projectStatus).toEqual(
      otherProject.widgets.projectStatus,
    );
  });

  it('keeps the newest alerts and activities when the union is over the limit', () => {
    const full = makeState({ timestamp: T0, alerts: MAX_ALERTS, activities: MAX_ACTIVITIES });
    const local = edited(full, T0 + 1000, (draft) => {
      draft.widgets.alerts.unshift({ ...makeAlert(900), timestamp: T0 + 500 });
      draft.widgets.alerts.pop();
      draft.widgets.activity?.activities.unshift(activity('local-new', T0 + 500));
      draft.widgets.activity?.activities.pop();
    });
    const remote = edited(full, T0 + 2000, (draft) => {
      draft.widgets.alerts.unshift({ ...makeAlert(901), timestamp: T0 + 600 });
      draft.widgets.activity?.activities.unshift(activity('remote-new', T0 + 600));
    });
    const merged = mergeDashboardStates(full, local, remote);
    expect(merged.widgets.alerts).toHaveLength(MAX_ALERTS);
    // Both added at the front: the older side's addition goes before the newer side's items.
    expect(merged.widgets.alerts.slice(0, 2).map((a) => a.id)).toEqual(['alert-900', 'alert-901']);
    expect(alertById(merged, 'alert-49')).toBeUndefined();
    expect(merged.widgets.activity?.activities).toHaveLength(MAX_ACTIVITIES);
    expect(merged.widgets.activity?.activities.slice(0, 2).map((a) => a.id)).toEqual([
      'local-new',
      'remote-new',
    ]);
    expect(validateDashboardState(merged).success).toBe(true);
  });

  it('treats every value as changed on both sides without a common base', () => {
    const local = edited(base, T0 + 1000, (draft) => {
      draft.activeProject = 'local';
    });
    const remote = edited(base, T0 + 2000, (draft) => {
      draft.widgets.alerts.push(makeAlert(7, T0));
    });
    const merged = mergeDashboardStates(null, local, remote);
    expect(merged.activeProject).toBe(remote.activeProject);
    expect(merged.widgets.alerts.map((a) => a.id)).toContain('alert-7');
  });

  it('keeps local transient parts and optional ids', () => {
    const local = edited(base, T0 + 1000, (draft) => {
      draft.loading = { isLoading: true, loadingAgents: ['agent'] };
      draft.userId = 'ada';
    });
    const remote = edited(base, T0 + 2000, (draft) => {
      draft.workspaceId = 'acme';
    });
    const merged = mergeDashboardStates(base, local, remote);
    expect(merged.loading.isLoading).toBe(true);
    expect(merged).toMatchObject({ userId: 'ada', workspaceId: 'acme' });
  });
});

const RUNS = { numRuns: 300 };

describe('mergeDashboardStates: properties', () => {
  it('is deterministic and the same whichever side merges (but for transient parts)', () => {
    fc.assert(
      fc.property(triple, orderArb, ([base, local, remote], order) => {
        const once = mergeDashboardStates(base, local, remote, order);
        expect(mergeDashboardStates(clone(base), clone(local), clone(remote), order)).toEqual(once);
        const swapped = { local: order.remote, remote: order.local } as MergeOrder;
        expect(mergeDashboardStates(base, remote, local, swapped)).toEqual(once);
      }),
      RUNS,
    );
  });

  it('is stable: merging a side into the merge of it gives that merge again', () => {
    // Not `merge(x, x)` (that is the equal-inputs early return): the merge result differs
    // from `local` wherever `remote` contributed, so every rule runs on a real conflict.
    // The result saw more of the history (the higher revision), as a merge it sent would.
    fc.assert(
      fc.property(triple, fc.nat(3), fc.nat(3), ([base, local, remote], a, b) => {
        fc.pre(a !== b);
        const order: MergeOrder = {
          local: { basedOnRevision: a, origin: 'a' },
          remote: { basedOnRevision: b, origin: 'b' },
        };
        const merged = mergeDashboardStates(base, local, remote, order);
        const again: MergeOrder = {
          local: { basedOnRevision: a, origin: 'a' },
          remote: { basedOnRevision: Math.max(a, b) + 1, origin: 'b' },
        };
        expect(mergeDashboardStates(base, local, clone(merged), again)).toEqual(merged);
      }),
      RUNS,
    );
  });

  it('keeps every one-sided change', () => {
    fc.assert(
      fc.property(triple, orderArb, ([base, local, remote], order) => {
        const merged = mergeDashboardStates(base, local, remote, order);
        for (const [mine, theirs] of [
          [local, remote],
          [remote, local],
        ] as const) {
          if (theirs.activeProject === base.activeProject) {
            expect(merged.activeProject).toEqual(mine.activeProject);
          }
          for (const key of ['projectStatus', 'metrics', 'activity'] as const) {
            if (JSON.stringify(theirs.widgets[key]) === JSON.stringify(base.widgets[key])) {
              expect(merged.widgets[key]).toEqual(mine.widgets[key]);
            }
          }
          const baseAlerts = new Map(base.widgets.alerts.map((alert) => [alert.id, alert]));
          const theirAlerts = new Map(theirs.widgets.alerts.map((alert) => [alert.id, alert]));
          for (const alert of mine.widgets.alerts) {
            const before = baseAlerts.get(alert.id);
            const other = theirAlerts.get(alert.id);
            const addedHereOnly = before === undefined && other === undefined;
            const changedHereOnly =
              before !== undefined &&
              JSON.stringify(before) !== JSON.stringify(alert) &&
              JSON.stringify(before) === JSON.stringify(other);
            if (addedHereOnly || changedHereOnly)
              expect(alertById(merged, alert.id)).toEqual(alert);
          }
          for (const id of baseAlerts.keys()) {
            if (!mine.widgets.alerts.some((alert) => alert.id === id)) {
              expect(alertById(merged, id)).toBeUndefined();
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('always gives a valid state', () => {
    fc.assert(
      fc.property(triple, orderArb, ([base, local, remote], order) => {
        const merged = mergeDashboardStates(base, local, remote, order);
        expect(validateDashboardState(merged)).toMatchObject({ success: true });
        expect(mergeDashboardStates(null, local, remote, order)).toSatisfy(
          (state: DashboardState) => validateDashboardState(state).success,
        );
      }),
      RUNS,
    );
  });
});
