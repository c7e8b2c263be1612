import { createInitialDashboardState, MAX_ACTIVITIES, MAX_ALERTS } from '@hyvve/schema';
import { describe, expect, it, vi } from 'vitest';
import { makeAlert, makeState } from '../../../test-support/fixtures.js';
import { createDashboardStore, selectDashboardState } from '../src/store.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('dashboard store', () => {
  it('starts from an empty dashboard', () => {
    const store = createDashboardStore({ now: () => 42 });
    expect(selectDashboardState(store.getState())).toEqual(createInitialDashboardState(42));
  });

  it('replaces the whole state with setFullState and keeps its timestamp', () => {
    const store = createDashboardStore();
    const state = { ...makeState({ timestamp: 5 }), userId: 'u1' };
    store.getState().setFullState(state);
    expect(selectDashboardState(store.getState())).toEqual(state);
    store.getState().setFullState(makeState({ timestamp: 6 }));
    expect(store.getState().userId).toBeUndefined();
    expect(typeof store.getState().setMetrics).toBe('function');
  });

  it('bumps the timestamp on every change, strictly increasing even within one millisecond', () => {
    const c = clock();
    const store = createDashboardStore({ now: c.now, initialState: makeState({ timestamp: 0 }) });
    store.getState().setActiveProject('p1');
    const first = store.getState().timestamp;
    expect(first).toBe(1_000_000);
    store.getState().setActiveProject('p2');
    expect(store.getState().timestamp).toBe(first + 1);
  });

  it('stamps a local change after an adopted state from a clock that runs ahead', () => {
    const c = clock(1000);
    const store = createDashboardStore({ now: c.now });
    store.getState().setFullState(makeState({ timestamp: 9000 }));
    store.getState().setActiveProject('mine');
    expect(store.getState().timestamp).toBe(9001);
  });

  it('sets each widget', () => {
    const store = createDashboardStore();
    const full = makeState();
    const { projectStatus, metrics, activity } = full.widgets;
    store.getState().setProjectStatus(projectStatus);
    store.getState().setMetrics(metrics);
    store.getState().setActivity(activity);
    expect(store.getState().widgets).toMatchObject({ projectStatus, metrics, activity });
    store.getState().setMetrics(null);
    expect(store.getState().widgets.metrics).toBeNull();
  });

  it('adds activity newest first and keeps at most MAX_ACTIVITIES', () => {
    const store = createDashboardStore();
    for (let i = 0; i < MAX_ACTIVITIES + 5; i++) {
      store.getState().addActivity({ id: `a${i}`, user: 'u', action: 'did', timestamp: i });
    }
    const activities = store.getState().widgets.activity?.activities ?? [];
    expect(activities).toHaveLength(MAX_ACTIVITIES);
    expect(activities[0]?.id).toBe(`a${MAX_ACTIVITIES + 4}`);
  });

  it('adds alerts newest first, replaces one with the same id and keeps at most MAX_ALERTS', () => {
    const store = createDashboardStore();
    for (let i = 0; i < MAX_ALERTS + 3; i++) store.getState().addAlert(makeAlert(i));
    expect(store.getState().widgets.alerts).toHaveLength(MAX_ALERTS);
    store.getState().addAlert({ ...makeAlert(10), title: 'again' });
    const alerts = store.getState().widgets.alerts;
    expect(alerts[0]?.title).toBe('again');
    expect(alerts.filter((a) => a.id === 'alert-10')).toHaveLength(1);
  });

  it('applies alert defaults', () => {
    const store = createDashboardStore();
    store.getState().addAlert({ id: 'x', type: 'info', title: 't', message: 'm', timestamp: 1 });
    expect(store.getState().widgets.alerts[0]).toMatchObject({
      dismissable: true,
      dismissed: false,
    });
  });

  it('dismisses a dismissable alert and leaves others alone', () => {
    const store = createDashboardStore();
    store.getState().addAlert({ ...makeAlert(1), dismissable: false });
    store.getState().addAlert(makeAlert(2));
    const before = store.getState().widgets.alerts;
    store.getState().dismissAlert('alert-1');
    store.getState().dismissAlert('missing');
    expect(store.getState().widgets.alerts).toBe(before);
    store.getState().dismissAlert('alert-2');
    expect(store.getState().widgets.alerts.find((a) => a.id === 'alert-2')?.dismissed).toBe(true);
  });

  it('tracks loading and errors as transient state', () => {
    const store = createDashboardStore({ now: () => 77 });
    store.getState().setLoading(true, ['agent-1']);
    expect(store.getState().loading).toEqual({
      isLoading: true,
      loadingAgents: ['agent-1'],
      startedAt: 77,
    });
    store.getState().setLoading(false);
    expect(store.getState().loading).toEqual({ isLoading: false, loadingAgents: [] });
    store.getState().setError('agent-1', 'boom');
    store.getState().setError('agent-2', 'bang');
    store.getState().setError('agent-1', null);
    expect(store.getState().errors).toEqual({ 'agent-2': 'bang' });
    store.getState().clearErrors();
    expect(store.getState().errors).toEqual({});
  });

  it('resets to an empty dashboard with a newer timestamp', () => {
    const store = createDashboardStore({ now: () => 10 });
    store.getState().setFullState(makeState({ timestamp: 500 }));
    store.getState().reset();
    expect(store.getState().widgets.alerts).toEqual([]);
    expect(store.getState().timestamp).toBe(501);
  });

  it('notifies selector subscribers only when their slice changes', () => {
    const store = createDashboardStore();
    const listener = vi.fn();
    store.subscribe((s) => s.widgets.alerts, listener);
    store.getState().setActiveProject('p');
    expect(listener).not.toHaveBeenCalled();
    store.getState().addAlert(makeAlert(1));
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
