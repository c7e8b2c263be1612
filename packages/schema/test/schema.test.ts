import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createInitialDashboardState,
  exceedsMaxStateSize,
  isPersistableAsIs,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  MAX_STATE_SIZE_BYTES,
  STATE_VERSION,
  stateSizeBytes,
  toPersistableState,
  toValidationFailure,
  utf8ByteLength,
  validateDashboardState,
} from '../src/index.js';

describe('validateDashboardState', () => {
  it('accepts a realistic state', () => {
    const result = validateDashboardState(makeState());
    expect(result.success).toBe(true);
  });

  it('accepts the initial state', () => {
    const initial = createInitialDashboardState(1234);
    expect(initial.version).toBe(STATE_VERSION);
    expect(initial.timestamp).toBe(1234);
    expect(validateDashboardState(initial)).toEqual({ success: true, data: initial });
  });

  it('applies defaults for optional booleans and titles', () => {
    const state = makeState({ alerts: 1 }) as unknown as Record<string, unknown>;
    const widgets = state.widgets as {
      alerts: Record<string, unknown>[];
      metrics: Record<string, unknown>;
    };
    delete widgets.alerts[0]?.dismissable;
    delete widgets.alerts[0]?.dismissed;
    delete widgets.metrics.title;
    const result = validateDashboardState(state);
    if (!result.success) throw new Error(result.error.message);
    expect(result.data.widgets.alerts[0]?.dismissable).toBe(true);
    expect(result.data.widgets.alerts[0]?.dismissed).toBe(false);
    expect(result.data.widgets.metrics?.title).toBe('Key Metrics');
  });

  it('names the failing path', () => {
    const state = makeState();
    (state.widgets.alerts[1] as { type: string }).type = 'fatal';
    const result = validateDashboardState(state);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.path).toBe('widgets.alerts.1.type');
    expect(result.error.message).toContain('widgets.alerts.1.type');
  });

  it('rejects progress out of range and negative task counts', () => {
    const state = makeState();
    if (!state.widgets.projectStatus) throw new Error('fixture');
    state.widgets.projectStatus.progress = 101;
    expect(validateDashboardState(state).success).toBe(false);
    state.widgets.projectStatus.progress = 50;
    state.widgets.projectStatus.tasksCompleted = -1;
    expect(validateDashboardState(state).success).toBe(false);
  });

  it('rejects more than MAX_ALERTS alerts and MAX_ACTIVITIES activities', () => {
    expect(validateDashboardState(makeState({ alerts: MAX_ALERTS })).success).toBe(true);
    expect(validateDashboardState(makeState({ alerts: MAX_ALERTS + 1 })).success).toBe(false);
    expect(validateDashboardState(makeState({ activities: MAX_ACTIVITIES })).success).toBe(true);
    const tooMany = validateDashboardState(makeState({ activities: MAX_ACTIVITIES + 1 }));
    expect(tooMany.success).toBe(false);
  });

  it('rejects a wrong version, non-objects and ids that could break a key', () => {
    expect(validateDashboardState({ ...makeState(), version: 2 }).success).toBe(false);
    expect(validateDashboardState(null).success).toBe(false);
    expect(validateDashboardState('state').success).toBe(false);
    const badId = validateDashboardState({ ...makeState(), userId: 'a:b' });
    expect(badId.success).toBe(false);
    if (!badId.success) expect(badId.error.path).toBe('userId');
  });

  it('reports the root path when the whole value is wrong', () => {
    const result = validateDashboardState(42);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.path).toBe('(root)');
  });
});

describe('toValidationFailure', () => {
  it('names the first issue, and the root when Zod gives none', () => {
    const failed = z.object({ a: z.string(), b: z.number() }).safeParse({ a: 1, b: 'x' });
    expect(failed.success).toBe(false);
    const first = !failed.success && toValidationFailure(failed.error);
    expect(first && !first.success && first.error.path).toBe('a');
    expect(first && !first.success && first.error.issues).toHaveLength(2);
    expect(toValidationFailure(new z.ZodError([]))).toEqual({
      success: false,
      error: {
        message: '(root): invalid value',
        path: '(root)',
        issues: [],
      },
    });
  });
});

describe('toPersistableState', () => {
  it('resets loading and errors and keeps everything else', () => {
    const state = makeState();
    state.loading = { isLoading: true, loadingAgents: ['agent-1'], startedAt: 5 };
    state.errors = { 'agent-1': 'boom' };
    const persisted = toPersistableState(state);
    expect(persisted.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(persisted.errors).toEqual({});
    expect(persisted.widgets).toBe(state.widgets);
    expect(state.errors).toEqual({ 'agent-1': 'boom' });
  });
});

describe('isPersistableAsIs', () => {
  it('is true only when loading is idle with no agents or start and errors are empty', () => {
    expect(isPersistableAsIs(makeState())).toBe(true);
    const cases: [keyof ReturnType<typeof makeState>, unknown][] = [
      ['loading', { isLoading: true, loadingAgents: [] }],
      ['loading', { isLoading: false, loadingAgents: ['agent-1'] }],
      ['loading', { isLoading: false, loadingAgents: [], startedAt: 5 }],
      ['errors', { 'agent-1': 'boom' }],
    ];
    for (const [key, value] of cases) {
      const state = { ...makeState(), [key]: value } as ReturnType<typeof makeState>;
      expect(isPersistableAsIs(state)).toBe(false);
      expect(isPersistableAsIs(toPersistableState(state))).toBe(true);
    }
  });
});

describe('size', () => {
  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    expect(utf8ByteLength('abc')).toBe(3);
    expect(utf8ByteLength('é')).toBe(2);
    expect(utf8ByteLength('€')).toBe(3);
    expect(utf8ByteLength('😀')).toBe(4);
    expect(stateSizeBytes({ a: 'é' })).toBe(JSON.stringify({ a: 'é' }).length + 1);
  });

  it('compares against the 1 MB limit', () => {
    expect(exceedsMaxStateSize(MAX_STATE_SIZE_BYTES)).toBe(false);
    expect(exceedsMaxStateSize(MAX_STATE_SIZE_BYTES + 1)).toBe(true);
    expect(exceedsMaxStateSize(11, 10)).toBe(true);
    const big = makeState({ targetBytes: MAX_STATE_SIZE_BYTES + 10 });
    expect(exceedsMaxStateSize(stateSizeBytes(big))).toBe(true);
  });
});
