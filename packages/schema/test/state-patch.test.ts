import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  applyStatePatch,
  diffStates,
  StatePatchError,
  serverMessageSchema,
  validateDashboardState,
} from '../src/index.js';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('diffStates / applyStatePatch', () => {
  it('turns one state into the next with a patch far smaller than the state', () => {
    const before = makeState({ targetBytes: 10_240, timestamp: 1_764_000_000_000 });
    const after = clone(before);
    after.timestamp = 1_764_000_000_500;
    const metric = after.widgets.metrics?.metrics[0];
    if (!metric) throw new Error('fixture has no metric');
    metric.value = 4242;
    after.activeProject = null;
    const patch = diffStates(before, after);
    expect(patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/timestamp', value: 1_764_000_000_500 },
        { op: 'replace', path: '/widgets/metrics/metrics/0/value', value: 4242 },
      ]),
    );
    expect(JSON.stringify(patch).length).toBeLessThan(JSON.stringify(after).length / 20);
    expect(applyStatePatch(before, patch)).toEqual(after);
    const patched = validateDashboardState(applyStatePatch(before, patch));
    expect(patched.success ? 'valid' : patched.error.message).toBe('valid');
  });

  it('covers nulls, removed optional keys, added and removed array items', () => {
    const before = { ...makeState({ alerts: 5, timestamp: 1_764_000_000_000 }), workspaceId: 'w1' };
    const after: Partial<typeof before> = clone(before);
    const widgets = after.widgets ?? before.widgets;
    widgets.projectStatus = null;
    widgets.alerts.splice(1, 1);
    const first = widgets.alerts[0];
    if (!first) throw new Error('fixture has no alert');
    widgets.alerts.push({ ...first, id: 'a' }, { ...first, id: 'b' });
    delete after.workspaceId;
    const patch = diffStates(before, after);
    expect(new Set(patch.map((operation) => operation.op))).toEqual(
      new Set(['replace', 'remove', 'add']),
    );
    expect(applyStatePatch(before, patch)).toEqual(after);
  });

  it('leaves the base untouched and returns the same value for an empty patch', () => {
    const base = makeState({ timestamp: 5 });
    const copy = clone(base);
    const result = applyStatePatch(base, diffStates(base, clone(base)));
    expect(diffStates(base, copy)).toEqual([]);
    expect(result).toEqual(base);
    applyStatePatch(base, [{ op: 'replace', path: '/timestamp', value: 6 }]);
    expect(base).toEqual(copy);
  });

  it('throws StatePatchError naming the operation when the base does not match', () => {
    const base = makeState({ timestamp: 5 });
    const patch = [
      { op: 'replace' as const, path: '/timestamp', value: 6 },
      { op: 'remove' as const, path: '/widgets/nothing-here' },
    ];
    let caught: unknown;
    try {
      applyStatePatch(base, patch);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatePatchError);
    expect((caught as StatePatchError).operationIndex).toBe(1);
    expect((caught as StatePatchError).message).toMatch(
      /operation 1 \(remove \/widgets\/nothing-here\) does not apply/,
    );
    expect(() => applyStatePatch(null, patch)).toThrow(StatePatchError);
    expect(() => applyStatePatch('text', patch)).toThrow(/applies to an object/);
  });

  it('refuses to patch the prototype', () => {
    const base = makeState({ timestamp: 5 });
    expect(() =>
      applyStatePatch(base, [{ op: 'add', path: '/__proto__/polluted', value: true }]),
    ).toThrow(StatePatchError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('patch message on the wire', () => {
  it('parses a patch message and rejects unknown operations', () => {
    const message = {
      type: 'patch',
      revision: 8,
      baseRevision: 7,
      savedAt: 10,
      origin: 'tab-1',
      patch: [{ op: 'replace', path: '/timestamp', value: 11 }],
    };
    expect(serverMessageSchema.safeParse(message).success).toBe(true);
    expect(
      serverMessageSchema.safeParse({ ...message, patch: [{ op: 'move', from: '/a', path: '/b' }] })
        .success,
    ).toBe(false);
    expect(serverMessageSchema.safeParse({ ...message, baseRevision: -1 }).success).toBe(false);
  });
});
