// The schema package loads and its top-level tables work. A module whose top-level code
// throws (a Zod schema built wrong, a key table that is not one) breaks every importer;
// imported inside a test, the failure is a failing test that names it, not only a test file
// that did not load (which mutation testing's Vitest runner counts as no failure at all).
import { expect, it } from 'vitest';

it('loads every module, and the tables built at load time answer', async () => {
  const schema = await import('../src/index.js');
  const state = schema.createInitialDashboardState(1);
  expect(schema.checkDashboardState(state)).toBe('valid');
  expect(schema.checkDashboardState({ ...state, extra: 1 })).toBe('other');
  expect(
    schema.jsonPatchDocumentSchema.safeParse([
      { op: 'add', path: '/a', value: 1 },
      { op: 'move', from: '/a', path: '/b' },
      { op: 'test', path: '/b', value: 1 },
    ]).success,
  ).toBe(true);
  expect(schema.utf8ByteLength('é😀')).toBe(6);
  expect(schema.migrateDashboardState(state).success).toBe(true);
});
