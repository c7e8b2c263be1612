import { describe, expect, it } from 'vitest';
import { makeAlert, makeState } from '../../../test-support/fixtures.js';
import {
  applyStatePatch,
  type DashboardState,
  diffStates,
  type StatePatch,
  StatePatchError,
  serverMessageSchema,
  validateDashboardState,
} from '../src/index.js';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `value` with every object and array reachable from it frozen: any write throws. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function patchError(base: unknown, patch: StatePatch): StatePatchError {
  try {
    applyStatePatch(base, patch);
  } catch (error) {
    if (error instanceof StatePatchError) return error;
    throw error;
  }
  throw new Error(`patch applied: ${JSON.stringify(patch)}`);
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure replays. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Changes `state` in place the ways a dashboard changes: values, alerts, whole widgets. */
function mutateState(state: DashboardState, random: () => number): void {
  const pick = (n: number) => Math.floor(random() * n);
  const { widgets } = state;
  switch (pick(9)) {
    case 0:
      state.timestamp += 1 + pick(1000);
      break;
    case 1: {
      const metric = widgets.metrics?.metrics[pick(widgets.metrics.metrics.length)];
      if (metric) metric.value = random() < 0.5 ? pick(10_000) : `v${pick(100)}`;
      break;
    }
    case 2:
      if (widgets.alerts.length > 0) widgets.alerts.splice(pick(widgets.alerts.length), 1);
      break;
    case 3:
      widgets.alerts.splice(pick(widgets.alerts.length + 1), 0, makeAlert(100 + pick(900), 1));
      break;
    case 4: {
      const alert = widgets.alerts[pick(widgets.alerts.length)];
      if (alert) alert.dismissed = !alert.dismissed;
      break;
    }
    case 5: {
      const key = (['projectStatus', 'metrics', 'activity'] as const)[pick(3)] ?? 'metrics';
      widgets[key] = null;
      break;
    }
    case 6:
      state.activeProject = state.activeProject === null ? `proj-${pick(10)}` : null;
      break;
    case 7:
      if (widgets.projectStatus) {
        widgets.projectStatus.progress = pick(101);
        delete widgets.projectStatus.summary;
      }
      break;
    default:
      widgets.activity?.activities.unshift({
        id: `activity-new-${pick(1000)}`,
        user: 'user-9',
        action: 'commented',
        timestamp: pick(1_000_000),
      });
  }
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

  it('allows a key named prototype or constructor elsewhere (an agent id may be one)', () => {
    const base = makeState({ timestamp: 5 });
    const patched = applyStatePatch(base, [
      { op: 'add', path: '/errors/prototype', value: 'failed' },
      { op: 'add', path: '/errors/constructor', value: 'failed too' },
    ]) as typeof base;
    expect(Object.entries(patched.errors)).toEqual([
      ['prototype', 'failed'],
      ['constructor', 'failed too'],
    ]);
  });

  it('names its errors StatePatchError', () => {
    const error = patchError(makeState(), [{ op: 'remove', path: '/missing' }]);
    expect(error.name).toBe('StatePatchError');
    expect(String(error)).toMatch(/^StatePatchError: patch operation 0 \(remove \/missing\)/);
  });

  it('refuses a path that does not start with a slash, saying so', () => {
    const error = patchError(makeState(), [{ op: 'add', path: 'errors/x', value: 'y' }]);
    expect(error.message).toContain('a JSON pointer starts with "/": errors/x');
  });
});

describe('applyStatePatch copy-on-write', () => {
  it('patches a deep-frozen base and leaves it as it was', () => {
    const base = deepFreeze(makeState({ alerts: 5, timestamp: 1 }));
    const before = clone(base);
    const patch: StatePatch = [
      { op: 'replace', path: '/timestamp', value: 2 },
      { op: 'replace', path: '/widgets/metrics/metrics/1/value', value: 'n/a' },
      { op: 'remove', path: '/widgets/alerts/2' },
      { op: 'add', path: '/widgets/activity/activities/0/projectId', value: 'proj-x' },
      { op: 'replace', path: '/widgets/projectStatus', value: null },
    ];
    const expected = clone(base);
    expected.timestamp = 2;
    const metric = expected.widgets.metrics?.metrics[1];
    const activity = expected.widgets.activity?.activities[0];
    if (!metric || !activity) throw new Error('fixture lacks a metric or an activity');
    metric.value = 'n/a';
    expected.widgets.alerts.splice(2, 1);
    activity.projectId = 'proj-x';
    expected.widgets.projectStatus = null;
    expect(applyStatePatch(base, patch)).toEqual(expected);
    expect(base).toEqual(before);
  });

  it('shares unchanged subtrees with the base and copies only the changed path', () => {
    const base = deepFreeze(makeState({ metrics: 10, timestamp: 1 }));
    const result = applyStatePatch(base, [
      { op: 'replace', path: '/widgets/metrics/metrics/3/value', value: 1 },
      { op: 'replace', path: '/widgets/metrics/metrics/4/value', value: 2 },
    ]) as DashboardState;
    const [baseMetrics, resultMetrics] = [base.widgets.metrics, result.widgets.metrics];
    if (!baseMetrics || !resultMetrics) throw new Error('metrics widget lost');
    // The changed path: new objects, each copied once for both operations.
    expect(result).not.toBe(base);
    expect(result.widgets).not.toBe(base.widgets);
    expect(resultMetrics).not.toBe(baseMetrics);
    expect(resultMetrics.metrics).not.toBe(baseMetrics.metrics);
    expect(resultMetrics.metrics[3]).not.toBe(baseMetrics.metrics[3]);
    expect(resultMetrics.metrics.map((metric) => metric.value).slice(3, 5)).toEqual([1, 2]);
    // Everything else: the base's own objects.
    for (const index of [0, 1, 2, 5, 9]) {
      expect(resultMetrics.metrics[index]).toBe(baseMetrics.metrics[index]);
    }
    expect(result.widgets.alerts).toBe(base.widgets.alerts);
    expect(result.widgets.activity).toBe(base.widgets.activity);
    expect(result.widgets.projectStatus).toBe(base.widgets.projectStatus);
    expect(result.loading).toBe(base.loading);
    expect(result.errors).toBe(base.errors);
  });

  it('adds and removes array items at the front, in the middle and at the end', () => {
    const base = deepFreeze(makeState({ alerts: 6, timestamp: 1 }));
    const [front, middle, end] = [makeAlert(100, 1), makeAlert(101, 1), makeAlert(102, 1)];
    const result = applyStatePatch(base, [
      { op: 'remove', path: '/widgets/alerts/0' },
      { op: 'add', path: '/widgets/alerts/0', value: front },
      { op: 'remove', path: '/widgets/alerts/3' },
      { op: 'add', path: '/widgets/alerts/2', value: middle },
      { op: 'add', path: '/widgets/alerts/-', value: end },
      { op: 'remove', path: '/widgets/alerts/5' },
    ]) as DashboardState;
    const ids = (alerts: { id: string }[]) => alerts.map((alert) => alert.id);
    expect(ids(result.widgets.alerts)).toEqual([
      'alert-100',
      'alert-1',
      'alert-101',
      'alert-2',
      'alert-4',
      'alert-102',
    ]);
    expect(ids(base.widgets.alerts)).toEqual(Array.from({ length: 6 }, (_, i) => `alert-${i}`));
    expect(result.widgets.alerts[1]).toBe(base.widgets.alerts[1]);
    expect(result.widgets.alerts[5]).toBe(end);
  });

  it('replaces root-level keys and nested objects', () => {
    const base = deepFreeze({ ...makeState({ timestamp: 1 }), userId: 'u1' });
    const status = { ...makeState().widgets.projectStatus, name: 'Gemini' };
    const result = applyStatePatch(base, [
      { op: 'replace', path: '/activeProject', value: null },
      { op: 'add', path: '/workspaceId', value: 'w2' },
      { op: 'remove', path: '/userId' },
      { op: 'replace', path: '/widgets/projectStatus', value: status },
      { op: 'replace', path: '/widgets/metrics/title', value: 'KPIs' },
      { op: 'replace', path: '/loading', value: { isLoading: true, loadingAgents: ['a'] } },
    ]) as DashboardState;
    const { userId: _removed, ...expected } = clone(base);
    expect(result).toEqual({
      ...expected,
      activeProject: null,
      workspaceId: 'w2',
      loading: { isLoading: true, loadingAgents: ['a'] },
      widgets: {
        ...expected.widgets,
        projectStatus: status,
        metrics: { ...expected.widgets.metrics, title: 'KPIs' },
      },
    });
    expect(result.widgets.projectStatus).toBe(status);
    expect(base.userId).toBe('u1');
    expect(base.widgets.metrics?.title).toBe('Key Metrics');
  });

  it('reads escaped pointer segments (~1 is /, ~0 is ~)', () => {
    const base = deepFreeze({ 'a/b': { x: 1 }, 'c~d': { y: [1] }, a: { b: { x: 1 } }, c: {} });
    const result = applyStatePatch(base, [
      { op: 'replace', path: '/a~1b/x', value: 2 },
      { op: 'add', path: '/c~0d/y/-', value: 3 },
      { op: 'add', path: '/c/~01', value: 'tilde-one' },
    ]);
    expect(result).toEqual({
      'a/b': { x: 2 },
      'c~d': { y: [1, 3] },
      a: { b: { x: 1 } },
      c: { '~1': 'tilde-one' },
    });
    expect((result as typeof base).a).toBe(base.a);
  });

  it('leaves the base untouched and names the operation when one in the middle fails', () => {
    const base = makeState({ alerts: 3, timestamp: 1 });
    const before = clone(base);
    const error = patchError(base, [
      { op: 'replace', path: '/timestamp', value: 2 },
      { op: 'replace', path: '/widgets/alerts/1/title', value: 'changed' },
      { op: 'remove', path: '/widgets/alerts/0' },
      { op: 'replace', path: '/widgets/alerts/7/title', value: 'missing' },
      { op: 'replace', path: '/activeProject', value: null },
    ]);
    expect(error.operationIndex).toBe(3);
    expect(error.message).toMatch(
      /^patch operation 3 \(replace \/widgets\/alerts\/7\/title\) does not apply: \S/,
    );
    expect(base).toEqual(before);
  });

  it('reports paths through missing or non-container values as the library does', () => {
    const base = deepFreeze(makeState({ alerts: 2, timestamp: 1 }));
    const broken: StatePatch = [
      { op: 'add', path: '/timestamp/x', value: 1 },
      { op: 'replace', path: '/widgets/nothing/x', value: 1 },
      { op: 'add', path: '/widgets/projectStatus/name/x', value: 1 },
      { op: 'replace', path: '/widgets/alerts/9/title', value: 'x' },
      { op: 'add', path: '/widgets/alerts/3', value: makeAlert(3, 1) },
      // Index spellings the library reads differently from a property lookup.
      { op: 'replace', path: '/widgets/alerts/4294967296/title', value: 'x' },
      { op: 'replace', path: '/widgets/alerts/01/title', value: 'x' },
      { op: 'replace', path: '/widgets/alerts//title', value: 'x' },
      { op: 'add', path: '/widgets/alerts/-/title', value: 'x' },
      { op: 'replace', path: '/widgets/alerts/length', value: 0 },
    ];
    for (const operation of broken) {
      const error = patchError(base, [operation]);
      expect(error.operationIndex).toBe(0);
      expect(error.message).toContain(`patch operation 0 (${operation.op} ${operation.path})`);
      // A write into the frozen base would surface as a TypeError about a read-only value.
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.message).not.toMatch(/read.only|not extensible|frozen/i);
    }
  });

  it('refuses __proto__ and constructor/prototype paths', () => {
    const parsed = JSON.parse(
      '{"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 1}}, "list": [{}]}',
    ) as unknown;
    const base = deepFreeze(parsed);
    const refused: StatePatch = [
      { op: 'add', path: '/__proto__/polluted', value: true },
      { op: 'replace', path: '/__proto__/x', value: 2 },
      { op: 'add', path: '/constructor/prototype/polluted', value: true },
      { op: 'add', path: '/list/0/__proto__/polluted', value: true },
      { op: 'add', path: '/list/0/constructor/prototype/polluted', value: true },
    ];
    for (const operation of refused) {
      const error = patchError(base, [operation]);
      expect(error.message).toContain(`patch operation 0 (${operation.op} ${operation.path})`);
    }
    expect(patchError(base, refused.slice(0, 1)).message).toMatch(/banned/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not write into values an earlier operation of the patch inserted', () => {
    const base = deepFreeze(makeState({ alerts: 1, timestamp: 1 }));
    const inserted = makeAlert(7, 1);
    const patch: StatePatch = [
      { op: 'add', path: '/widgets/alerts/-', value: inserted },
      { op: 'replace', path: '/widgets/alerts/1/title', value: 'renamed' },
    ];
    const result = applyStatePatch(base, patch) as DashboardState;
    expect(result.widgets.alerts[1]?.title).toBe('renamed');
    expect(inserted.title).toBe('Alert 7');
  });

  it('turns any of 200 generated states into another with their diff', () => {
    const random = seededRandom(20_251_107);
    for (let pair = 0; pair < 200; pair++) {
      const pick = (n: number) => Math.floor(random() * n);
      const seed = makeState({ alerts: pick(12), activities: pick(8), metrics: pick(8) });
      const a = clone(seed);
      for (let i = pick(4); i > 0; i--) mutateState(a, random);
      const b = clone(a);
      for (let i = 1 + pick(5); i > 0; i--) mutateState(b, random);
      const before = JSON.stringify(a);
      // Half the bases frozen (a write throws), half compared after (a write is seen).
      const base = pair % 2 === 0 ? deepFreeze(a) : a;
      const patch = diffStates(base, b);
      expect(applyStatePatch(base, patch), `pair ${pair}: ${JSON.stringify(patch)}`).toEqual(b);
      expect(JSON.stringify(base)).toBe(before);
    }
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
