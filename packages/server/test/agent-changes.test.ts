import {
  createInitialDashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  validateDashboardState,
} from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { ALERT_EVERY, applyAgentStep } from '../src/cli/agent-changes.js';

const NOW = 1_750_000_000_000;
const step = (n: number, now = NOW) => ({ step: n, now, agent: 'insights-agent' });

describe('agent simulator steps', () => {
  it('fills every widget of an empty dashboard with a valid state', () => {
    const { state } = applyAgentStep(createInitialDashboardState(NOW - 1000), step(0));
    const result = validateDashboardState(state);
    expect(result.success).toBe(true);
    expect(state.widgets.projectStatus?.projectId).toBe('proj-apollo');
    expect(state.activeProject).toBe('proj-apollo');
    expect(state.widgets.metrics?.metrics.length).toBeGreaterThan(0);
    expect(state.widgets.activity?.activities).toHaveLength(1);
    expect(state.widgets.activity?.activities[0]?.user).toBe('insights-agent');
  });

  it('moves the project forward and keeps tasks consistent with progress', () => {
    const before = makeState({ timestamp: NOW - 5000 });
    const { state } = applyAgentStep(before, step(1));
    const project = state.widgets.projectStatus;
    expect(project?.progress).toBeGreaterThan(before.widgets.projectStatus?.progress ?? 0);
    expect(project?.tasksCompleted).toBe(Math.round(((project?.progress ?? 0) / 100) * 50));
    expect(project?.lastUpdated).toBe(NOW);
  });

  it('marks a project completed once it reaches 100% and stays there', () => {
    let state = makeState({ timestamp: NOW - 5000 });
    for (let i = 0; i < 40; i++) state = applyAgentStep(state, step(i, NOW + i)).state;
    expect(state.widgets.projectStatus?.progress).toBe(100);
    expect(state.widgets.projectStatus?.status).toBe('completed');
    expect(state.widgets.projectStatus?.tasksCompleted).toBe(50);
  });

  it('changes exactly one metric per step with a matching trend', () => {
    const before = makeState({ timestamp: NOW - 5000 });
    const { state } = applyAgentStep(before, step(2));
    const changed = state.widgets.metrics?.metrics.filter(
      (m, i) => m.value !== before.widgets.metrics?.metrics[i]?.value,
    );
    expect(changed).toHaveLength(1);
    const metric = changed?.[0];
    expect(metric?.trend).toBe((metric?.change ?? 0) > 0 ? 'up' : 'down');
  });

  it('raises an alert on every third step only', () => {
    const before = makeState({ alerts: 0, timestamp: NOW - 5000 });
    const raised = [0, 1, 2, 3, 4, 5].map(
      (n) => applyAgentStep(before, step(n)).state.widgets.alerts.length,
    );
    expect(raised).toEqual(
      [0, 1, 2, 3, 4, 5].map((n) => (n % ALERT_EVERY === ALERT_EVERY - 1 ? 1 : 0)),
    );
  });

  it('keeps activities and alerts within their limits', () => {
    const full = makeState({
      activities: MAX_ACTIVITIES,
      alerts: MAX_ALERTS,
      timestamp: NOW - 5000,
    });
    const { state } = applyAgentStep(full, step(ALERT_EVERY - 1));
    expect(state.widgets.activity?.activities).toHaveLength(MAX_ACTIVITIES);
    expect(state.widgets.alerts).toHaveLength(MAX_ALERTS);
    expect(state.widgets.alerts[0]?.id).toMatch(/^agent-alert-/);
    expect(validateDashboardState(state).success).toBe(true);
  });

  it('moves the timestamp past a stored state whose clock runs ahead', () => {
    const ahead = makeState({ timestamp: NOW + 60_000 });
    const { state } = applyAgentStep(ahead, step(0));
    expect(state.timestamp).toBe(NOW + 60_001);
  });

  it('never writes transient loading or error parts', () => {
    const busy = {
      ...makeState({ timestamp: NOW - 5000 }),
      loading: { isLoading: true, loadingAgents: ['a'], startedAt: NOW - 100 },
      errors: { a: 'failed' },
    };
    const { state } = applyAgentStep(busy, step(0));
    expect(state.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(state.errors).toEqual({});
  });

  it('summarises the change for the log', () => {
    const { summary } = applyAgentStep(makeState({ timestamp: NOW - 5000 }), step(ALERT_EVERY - 1));
    expect(summary).toMatch(/^progress \d+%, .+, activity "insights-agent .+", alert ".+"$/);
  });
});
