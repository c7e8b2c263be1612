// Merge rules at their edges, each pinned by an example (found by mutation testing,
// docs/MUTATION.md): equal inputs, absent optional keys, a base of another project, where
// the other side's additions go, ties on every order but content, and jsonEqual itself.
import { describe, expect, it } from 'vitest';
import { makeAlert, makeState } from '../../../test-support/fixtures.js';
import {
  type Alert,
  type DashboardState,
  jsonEqual,
  MAX_ALERTS,
  type MergeOrder,
  mergeDashboardStates,
} from '../src/index.js';

const T0 = 1_700_000_000_000;

function edited(state: DashboardState, at: number, edit: (draft: DashboardState) => void) {
  const draft = structuredClone(state);
  edit(draft);
  draft.timestamp = at;
  return draft;
}

const alerts = (...ids: string[]): Alert[] =>
  ids.map((id, i) => ({ ...makeAlert(i, T0), id, title: id }));
const idsOf = (state: DashboardState) => state.widgets.alerts.map((alert) => alert.id);
const localNewer: MergeOrder = { local: { basedOnRevision: 2 }, remote: { basedOnRevision: 1 } };

describe('mergeDashboardStates: edges', () => {
  const base = makeState({ timestamp: T0, alerts: 0 });

  it('returns local itself when both sides are equal copies', () => {
    const side = edited(base, T0 + 1, (draft) => {
      draft.activeProject = 'p-9';
    });
    expect(mergeDashboardStates(base, side, structuredClone(side))).toBe(side);
  });

  it('leaves optional keys absent that no side has, or that the winning change removed', () => {
    const local = edited(base, T0 + 1, (draft) => {
      if (draft.widgets.projectStatus) delete draft.widgets.projectStatus.summary;
    });
    const remote = edited(base, T0 + 2, (draft) => {
      if (draft.widgets.projectStatus) draft.widgets.projectStatus.progress = 99;
    });
    const merged = mergeDashboardStates(base, local, remote);
    expect(merged.widgets.projectStatus?.progress).toBe(99);
    expect(Object.hasOwn(merged.widgets.projectStatus ?? {}, 'summary')).toBe(false);
    expect(Object.hasOwn(merged, 'userId')).toBe(false);
    expect(Object.hasOwn(merged, 'workspaceId')).toBe(false);
  });

  it('counts every field as changed on both sides when both moved off the base project', () => {
    const other = (name: string, progress: number) => (draft: DashboardState) => {
      const status = draft.widgets.projectStatus;
      if (status) Object.assign(status, { projectId: 'proj-zeus', name, progress });
    };
    // Local keeps the progress the base project had; the base is not a base for Zeus.
    const progress = base.widgets.projectStatus?.progress ?? 0;
    const local = edited(base, T0 + 1, other('Zeus', progress));
    const remote = edited(base, T0 + 2, other('Zeus 2', progress + 10));
    const merged = mergeDashboardStates(base, local, remote, localNewer);
    expect(merged.widgets.projectStatus).toMatchObject({ name: 'Zeus', progress });
  });

  it("puts the other side's addition after the item it follows there, skipping removed ones", () => {
    const start = edited(base, T0, (draft) => {
      draft.widgets.alerts = alerts('a', 'b', 'c');
    });
    const newer = edited(start, T0 + 2, (draft) => {
      draft.widgets.alerts = alerts('a', 'c', 'd');
      draft.widgets.alerts[1] = start.widgets.alerts[2] as Alert;
      draft.widgets.alerts[0] = start.widgets.alerts[0] as Alert;
    });
    const olderAfterA = edited(start, T0 + 1, (draft) => {
      const [a, b, c] = start.widgets.alerts;
      draft.widgets.alerts = [a, alerts('x')[0], b, c] as Alert[];
    });
    expect(idsOf(mergeDashboardStates(start, newer, olderAfterA, localNewer))).toEqual([
      'a',
      'x',
      'c',
      'd',
    ]);
    // After b, which the newer side removed: it goes after a, the item before b.
    const olderAfterB = edited(start, T0 + 1, (draft) => {
      const [a, b, c] = start.widgets.alerts;
      draft.widgets.alerts = [a, b, alerts('y')[0], c] as Alert[];
    });
    expect(idsOf(mergeDashboardStates(start, newer, olderAfterB, localNewer))).toEqual([
      'a',
      'y',
      'c',
      'd',
    ]);
  });

  it('breaks a timestamp tie by origin even where the content would decide otherwise', () => {
    const zed = edited(base, T0 + 1, (draft) => {
      draft.activeProject = 'zzz';
    });
    const abc = edited(base, T0 + 1, (draft) => {
      draft.activeProject = 'aaa';
    });
    const order: MergeOrder = { local: { origin: 'tab-a' }, remote: { origin: 'tab-b' } };
    expect(mergeDashboardStates(base, zed, abc, order).activeProject).toBe('aaa');
  });

  it('breaks a tie on revision, timestamp and origin by the larger JSON text, on every device', () => {
    // Every device and server version must pick the same side: the direction is part of
    // the contract, not a detail.
    const zed = edited(base, T0 + 1, (draft) => {
      draft.activeProject = 'zzz';
    });
    const abc = edited(base, T0 + 1, (draft) => {
      draft.activeProject = 'aaa';
    });
    expect(mergeDashboardStates(base, zed, abc).activeProject).toBe('zzz');
    expect(mergeDashboardStates(base, abc, zed).activeProject).toBe('zzz');
  });

  it('keeps the earlier items of a list over its limit whose timestamps tie', () => {
    const start = edited(base, T0, (draft) => {
      draft.widgets.alerts = [];
    });
    const same = (id: string): Alert => ({ ...makeAlert(0, T0), id });
    const local = edited(start, T0 + 1, (draft) => {
      draft.widgets.alerts = Array.from({ length: MAX_ALERTS }, (_, i) => same(`l-${i}`));
    });
    const remote = edited(start, T0 + 2, (draft) => {
      draft.widgets.alerts = [same('r-0')];
    });
    // r-0 goes first (it follows nothing on its side); the last of the tie is dropped.
    const merged = mergeDashboardStates(start, local, remote, localNewer);
    expect(idsOf(merged)).toEqual([
      'r-0',
      ...Array.from({ length: MAX_ALERTS - 1 }, (_, i) => `l-${i}`),
    ]);
  });
});

describe('mergeDashboardStates: an id listed twice', () => {
  it('keeps its first entry, once (the schema does not refuse duplicate ids)', () => {
    const start = makeState({ timestamp: T0, alerts: 0 });
    const [first, second] = alerts('dup', 'dup');
    const local = edited(start, T0 + 1, (draft) => {
      draft.widgets.alerts = [{ ...(first as Alert), title: 'first' }, second as Alert];
    });
    const remote = edited(start, T0 + 2, (draft) => {
      draft.widgets.alerts = alerts('other');
    });
    const merged = mergeDashboardStates(start, local, remote);
    expect(merged.widgets.alerts.filter((alert) => alert.id === 'dup')).toEqual([
      { ...first, title: 'first' },
    ]);
  });
});

describe('jsonEqual', () => {
  it.each([
    [null, {}, false],
    [{}, null, false],
    [{}, [], false],
    [[], {}, false],
    ['1', 1, false],
    [1, {}, false],
    [[1, 2], [1, 2, 3], false],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1 }, { b: 1 }, false],
    [{ a: 1, b: [2] }, { b: [2], a: 1 }, true],
    [{ a: undefined }, {}, true],
    [{}, { a: undefined }, true],
    [{ a: [{ b: null }] }, { a: [{ b: null }] }, true],
  ])('jsonEqual(%j, %j) is %s', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});
