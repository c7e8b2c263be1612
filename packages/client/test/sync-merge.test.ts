// The client's decision on a server copy (issue 12): adopt it when nothing local is
// unsynced, otherwise merge, never choose one whole state over the other.
import type { DashboardState } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { makeAlert, makeState } from '../../../test-support/fixtures.js';
import { decideMerge } from '../src/server/merge.js';

const T0 = 1_700_000_000_000;
const base = makeState({ timestamp: T0, alerts: 3, activities: 2 });

function edited(at: number, edit: (draft: DashboardState) => void): DashboardState {
  const draft = structuredClone(base);
  edit(draft);
  draft.timestamp = at;
  return draft;
}

const dismissed = edited(T0 + 1000, (draft) => {
  const alert = draft.widgets.alerts[0];
  if (alert) alert.dismissed = true;
});
const withActivity = edited(T0 + 5000, (draft) => {
  draft.widgets.activity?.activities.unshift({
    id: 'offline-1',
    user: 'bea',
    action: 'added',
    timestamp: T0 + 4000,
  });
});

describe('decideMerge', () => {
  it('adopts the server copy when nothing local is unsynced', () => {
    const decision = decideMerge(
      { state: base, revision: 1 },
      { state: base, origin: 'me', unsynced: false },
      { state: dismissed, revision: 2, origin: 'other' },
    );
    expect(decision).toEqual({ kind: 'adopt' });
  });

  it('merges offline activity with a dismissal made on another device', () => {
    const decision = decideMerge(
      { state: base, revision: 1 },
      { state: withActivity, origin: 'me', unsynced: true },
      { state: dismissed, revision: 2, origin: 'other' },
    );
    expect(decision.kind).toBe('merge');
    if (decision.kind !== 'merge') return;
    expect(decision.keepsLocal).toBe(false);
    expect(decision.state.widgets.alerts[0]?.dismissed).toBe(true);
    expect(decision.state.widgets.activity?.activities[0]?.id).toBe('offline-1');
  });

  it('keeps the local content as is when it already holds everything', () => {
    const both = structuredClone(withActivity);
    const alert = both.widgets.alerts[0];
    if (alert) alert.dismissed = true;
    const decision = decideMerge(
      { state: base, revision: 1 },
      { state: both, origin: 'me', unsynced: true },
      { state: dismissed, revision: 2, origin: 'other' },
    );
    expect(decision).toEqual({ kind: 'merge', state: both, keepsLocal: true });
  });

  it('takes the server copy when the merge gives exactly it', () => {
    // Local removed an alert the remote removed as well, and remote added one more.
    const localRemoved = edited(T0 + 1000, (draft) => {
      draft.widgets.alerts.splice(2, 1);
    });
    const remoteRemovedAndAdded = edited(T0 + 2000, (draft) => {
      draft.widgets.alerts.splice(2, 1);
      draft.widgets.alerts.push(makeAlert(9, T0));
    });
    const decision = decideMerge(
      { state: base, revision: 1 },
      { state: localRemoved, origin: 'me', unsynced: true },
      { state: remoteRemovedAndAdded, revision: 2, origin: 'other' },
    );
    expect(decision).toEqual({ kind: 'remote-wins' });
  });

  it('lets the clocks decide when no agreed revision is known (first connect, new epoch)', () => {
    const localNewer = edited(T0 + 5000, (draft) => {
      draft.activeProject = 'local-newer';
    });
    const remote = edited(T0 + 1000, (draft) => {
      draft.activeProject = 'remote';
    });
    const decision = decideMerge(
      { state: null, revision: undefined },
      { state: localNewer, origin: 'me', unsynced: true },
      { state: remote, revision: 9, origin: 'other' },
    );
    expect(decision).toMatchObject({ kind: 'merge', keepsLocal: true });
  });

  it('lets the change based on the later revision win a field both changed, whatever the clocks', () => {
    const localAhead = edited(T0 + 3_600_000, (draft) => {
      draft.activeProject = 'local-clock-ahead';
    });
    const remote = edited(T0 + 1000, (draft) => {
      draft.activeProject = 'remote';
    });
    // The remote copy is at revision 5: written on top of revision 4; local saw only 1.
    const decision = decideMerge(
      { state: base, revision: 1 },
      { state: localAhead, origin: 'me', unsynced: true },
      { state: remote, revision: 5, origin: 'other' },
    );
    expect(decision).toEqual({ kind: 'remote-wins' });
  });

  // Both sides changed `activeProject`; `later` names the side whose clock is later.
  function bothChanged(later: 'local' | 'remote') {
    const local = edited(later === 'local' ? T0 + 5000 : T0 + 1000, (draft) => {
      draft.activeProject = 'local';
    });
    const remote = edited(later === 'remote' ? T0 + 5000 : T0 + 1000, (draft) => {
      draft.activeProject = 'remote';
    });
    return { local: { state: local, origin: 'me', unsynced: true }, remote };
  }

  it('lets the clocks decide when the remote copy is the next revision after the agreed one', () => {
    // Revision 6 was written on top of 5, the revision local changes are based on too.
    const { local, remote } = bothChanged('local');
    expect(
      decideMerge({ state: base, revision: 5 }, local, { state: remote, revision: 6, origin: 'o' }),
    ).toMatchObject({ kind: 'merge', keepsLocal: true });
    const other = bothChanged('remote');
    expect(
      decideMerge({ state: base, revision: 5 }, other.local, {
        state: other.remote,
        revision: 6,
        origin: 'o',
      }),
    ).toEqual({ kind: 'remote-wins' });
  });

  it('lets the clocks decide when the remote revision is at or below the agreed one (a counter that started again)', () => {
    for (const revision of [5, 3]) {
      const { local, remote } = bothChanged('remote');
      expect(
        decideMerge({ state: base, revision: 5 }, local, { state: remote, revision, origin: 'o' }),
      ).toEqual({ kind: 'remote-wins' });
      const other = bothChanged('local');
      expect(
        decideMerge({ state: base, revision: 5 }, other.local, {
          state: other.remote,
          revision,
          origin: 'o',
        }),
      ).toMatchObject({ kind: 'merge', keepsLocal: true });
    }
  });
});
