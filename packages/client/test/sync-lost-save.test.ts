// sync-lost-save.ts: a save whose answer was lost counts as this device's history only
// where the server's copy holds exactly what it sent.
import {
  createInitialDashboardState,
  type DashboardState,
  mergeDashboardStates,
} from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { baseWithLostSave } from '../src/server/lost-save.js';

const alert = (id: string, dismissed = false) => ({
  id,
  type: 'info' as const,
  title: id,
  message: id,
  timestamp: 1,
  dismissable: true,
  dismissed,
});

function state(
  alerts: ReturnType<typeof alert>[],
  metric: number | null = null,
  activeProject: string | null = null,
): DashboardState {
  const initial = createInitialDashboardState(1000);
  return {
    ...initial,
    activeProject,
    widgets: {
      ...initial.widgets,
      alerts,
      metrics:
        metric === null
          ? null
          : {
              title: 'Key Metrics',
              metrics: [{ id: 'm', label: 'm', value: metric }],
              lastUpdated: 1,
            },
    },
  };
}

describe('baseWithLostSave', () => {
  it('takes what the server holds as sent into the base, so a later local edit wins', () => {
    const base = state([]);
    const lost = state([alert('a')], 1, 'p1');
    const local = state([alert('a')], 3, 'p2');
    const remote = state([alert('a'), alert('b')], 1, 'p1');
    const merged = mergeDashboardStates(baseWithLostSave(base, lost, remote), local, remote);
    expect(merged.widgets.metrics?.metrics[0]?.value).toBe(3);
    expect(merged.activeProject).toBe('p2');
    expect(merged.widgets.alerts.map((a) => a.id).sort()).toEqual(['a', 'b']);
    // Without it the device's own stored value fights its newer edit.
    const naive = mergeDashboardStates(base, local, remote, {
      local: { basedOnRevision: 0 },
      remote: { basedOnRevision: 4 },
    });
    expect(naive.widgets.metrics?.metrics[0]?.value).toBe(1);
  });

  it('keeps what the server copy lacks or changed out of the base (ambiguous: kept local)', () => {
    const base = state([alert('x')]);
    const lost = state([alert('x', true), alert('a')]);
    const remote = state([alert('x')]);
    const absorbed = baseWithLostSave(base, lost, remote);
    expect(absorbed.widgets.alerts).toEqual([alert('x')]);
    const changed = baseWithLostSave(base, lost, state([alert('x', true)]));
    expect(changed.widgets.alerts).toEqual([alert('x', true)]);
  });

  it('is the lost save itself when the server holds exactly it', () => {
    const lost = state([alert('a')], 2);
    expect(baseWithLostSave(state([]), lost, lost)).toBe(lost);
  });
});
