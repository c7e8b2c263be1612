// The agent sends its step as a JSON Patch of only what it changed (issue 12), so the
// server applies it to whatever is stored then and a user's edit made meanwhile survives.
import {
  applyJsonPatch,
  createInitialDashboardState,
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  StatePatchError,
} from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { ALERT_EVERY, applyAgentStep } from '../src/cli/agent-changes.js';
import { agentStepPatch, listPatch } from '../src/cli/agent-patch.js';

const NOW = 1_750_000_000_000;

function agentStep(before: DashboardState, step: number) {
  const after = applyAgentStep(before, { step, now: NOW + step, agent: 'insights-agent' }).state;
  return { after, patch: agentStepPatch(before, after) };
}

/** `state` without its top-level timestamp (the server stamps patched states). */
function untimed(state: unknown): unknown {
  const { timestamp: _timestamp, ...rest } = state as DashboardState;
  return rest;
}

describe('agentStepPatch', () => {
  const starts: Record<string, DashboardState> = {
    'an empty dashboard': createInitialDashboardState(NOW - 1000),
    'a typical dashboard': makeState({ timestamp: NOW - 1000 }),
    'full lists': makeState({
      timestamp: NOW - 1000,
      alerts: MAX_ALERTS,
      activities: MAX_ACTIVITIES,
    }),
    'a dashboard without metrics': {
      ...makeState({ timestamp: NOW - 1000 }),
      widgets: { ...makeState().widgets, metrics: { title: 'x', metrics: [], lastUpdated: 1 } },
    },
  };
  for (const [name, start] of Object.entries(starts)) {
    it(`turns ${name} into the step's state, step after step`, () => {
      let state = start;
      for (let step = 0; step < ALERT_EVERY * 2; step++) {
        const { after, patch } = agentStep(state, step);
        expect(untimed(applyJsonPatch(state, patch))).toEqual(untimed(after));
        state = after;
      }
    });
  }

  it("keeps a user's dismissal and new activity made after the agent read the state", () => {
    const read = makeState({ timestamp: NOW - 1000, alerts: 4 });
    const { patch } = agentStep(read, ALERT_EVERY - 1);
    const userEdited = structuredClone(read);
    const alert = userEdited.widgets.alerts[2];
    if (alert) alert.dismissed = true;
    const stored = applyJsonPatch(userEdited, patch) as DashboardState;
    expect(stored.widgets.alerts.find((a) => a.id === 'alert-2')?.dismissed).toBe(true);
    expect(stored.widgets.alerts).toHaveLength(5);
    expect(stored.widgets.metrics?.metrics[ALERT_EVERY - 1]).not.toEqual(
      read.widgets.metrics?.metrics[ALERT_EVERY - 1],
    );
  });

  it('does not apply when the user moved an item it addresses by index (409, rebuilt)', () => {
    const read = makeState({ timestamp: NOW - 1000, metrics: 4 });
    const { patch } = agentStep(read, 1);
    const userEdited = structuredClone(read);
    userEdited.widgets.metrics?.metrics.splice(0, 1);
    expect(() => applyJsonPatch(userEdited, patch)).toThrow(StatePatchError);
  });

  it('lists removals, in-place changes and additions by id', () => {
    const item = (id: string, v = 0) => ({ id, v });
    const ops = listPatch(
      '',
      [item('a'), item('b'), item('c')],
      [item('n'), item('a', 1), item('c')],
    );
    expect(applyJsonPatch([item('a'), item('b'), item('c')], ops)).toEqual([
      item('n'),
      item('a', 1),
      item('c'),
    ]);
    expect(ops.filter((op) => op.op === 'test')).toHaveLength(2);
  });
});
