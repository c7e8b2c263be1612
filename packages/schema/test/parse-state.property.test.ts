// The Zod-free parser (parse-state.ts) and the Zod schema give the same answer on every
// state: accepted or refused alike, the same output (defaults, stripped keys, key order)
// and the same issues, path and message, in the same order. States are generated from the
// schema itself (its JSON Schema): complete, with defaults left out, just outside a rule,
// and changed at one random place; plus values JSON cannot hold (NaN, class instances,
// symbol keys, keys set to undefined) that an in-process caller may pass.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeState } from '../../../test-support/fixtures.js';
import {
  dashboardStateSchema,
  parseDashboardState,
  toValidationFailure,
  validateDashboardState,
} from '../src/index.js';
import { arbitraryOf, type JsonSchema, mutate } from './support/json-schema-arbitrary.js';

const outputSchema = z.toJSONSchema(dashboardStateSchema, { io: 'output' }) as JsonSchema;
const inputSchema = z.toJSONSchema(dashboardStateSchema, { io: 'input' }) as JsonSchema;
const asReceived = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const completeStates = arbitraryOf(outputSchema).map(asReceived);
const inputStates = arbitraryOf(inputSchema).map(asReceived);
const nearMissStates = arbitraryOf(outputSchema, { nearMissEvery: 20 }).map(asReceived);
const changedStates = fc
  .tuple(
    completeStates,
    fc.nat(),
    fc.constantFrom('replace', 'delete', 'add-key' as const),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([state, pick, mutation, other]) => mutate(state, pick, mutation, other as never));

/** Fails unless the parser answers as Zod does, to the key order and the issue text. */
function expectSameAsZod(input: unknown): void {
  const zod = dashboardStateSchema.safeParse(input);
  const ours = parseDashboardState(input);
  if (zod.success) {
    expect(ours.success, ours.success ? '' : ours.error.message).toBe(true);
    if (!ours.success) return;
    expect(isDeepStrictEqual(ours.data, zod.data)).toBe(true);
    expect(JSON.stringify(ours.data)).toBe(JSON.stringify(zod.data));
    expect(ours.data).not.toBe(input);
  } else {
    expect(ours).toEqual(toValidationFailure(zod.error));
  }
}

describe('parseDashboardState answers as dashboardStateSchema.safeParse', () => {
  it('on every complete state the schema describes', () => {
    fc.assert(fc.property(completeStates, expectSameAsZod), { numRuns: 200 });
  });

  it('on states with defaults left out', () => {
    fc.assert(fc.property(inputStates, expectSameAsZod), { numRuns: 300 });
  });

  it('on states with values just outside their rules', () => {
    fc.assert(fc.property(nearMissStates, expectSameAsZod), { numRuns: 1500 });
  });

  it('on states changed at one random place', () => {
    fc.assert(fc.property(changedStates, expectSameAsZod), { numRuns: 1500 });
  });

  it('on values only an in-process caller can pass', () => {
    const base = (): Record<string, unknown> =>
      JSON.parse(JSON.stringify(makeState({ alerts: 2, activities: 2, metrics: 2 })));
    const cases: Record<string, unknown>[] = [];
    const add = (change: (state: Record<string, unknown>) => void): void => {
      const state = base();
      change(state);
      cases.push(state);
    };
    add((s) => (s.timestamp = Number.NaN));
    add((s) => (s.timestamp = Number.POSITIVE_INFINITY));
    add((s) => (s.timestamp = Number.NEGATIVE_INFINITY));
    add((s) => (s.errors = new Map()));
    add((s) => (s.errors = Object.assign(Object.create(null), { a: 'b' })));
    add((s) => (s.errors = { [Symbol('agent')]: 'x', a: 'b' }));
    add((s) => Object.defineProperty(s.errors, 'hidden', { value: 5, enumerable: false }));
    add((s) => (s.loading = new (class Loading {})()));
    add((s) => (s.widgets = new Date(0)));
    add((s) => (s.userId = undefined));
    add((s) => (s.workspaceId = 'a b'));
    add((s) => {
      const widgets = s.widgets as { projectStatus: unknown };
      widgets.projectStatus = {
        projectId: '',
        name: 1,
        status: 'late',
        progress: -0.5,
        tasksCompleted: -(2 ** 60),
        tasksTotal: 2 ** 60,
        lastUpdated: -1,
        summary: undefined,
      };
    });
    add((s) => {
      const widgets = s.widgets as { metrics: { title?: unknown; metrics: unknown[] } };
      widgets.metrics.title = undefined;
      widgets.metrics.metrics.push({ id: 'm', label: 'l', value: Number.NaN, trend: 'sideways' });
    });
    add((s) => {
      const widgets = s.widgets as { alerts: unknown[] };
      widgets.alerts = Array.from({ length: 51 }, () => ({ id: '' }));
    });
    add((s) => (s.errors = JSON.parse('{"__proto__": "x", "a": "b"}')));
    // Zod checks the length of a wrong-typed id that has one.
    for (const id of [[], [1], { length: 0 }, { length: 'x' }, '']) {
      add((s) => ((s.widgets as { alerts: { id: unknown }[] }).alerts[0] = { id }));
    }
    for (const input of [...cases, null, [], 'state', 5, undefined]) expectSameAsZod(input);
  });

  it('is what validateDashboardState answers', () => {
    const state = makeState({ alerts: 1 });
    expect(validateDashboardState(state)).toEqual(parseDashboardState(state));
    const refused = validateDashboardState({ ...state, version: 9 });
    expect(refused.success).toBe(false);
    if (!refused.success) expect(refused.error.message).toBe('version: Invalid input: expected 1');
  });
});
