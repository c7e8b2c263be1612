// The Zod-free check of server messages (parse-server-message.ts) accepts exactly the
// messages `serverMessageSchema` accepts and returns the same value (unknown keys dropped,
// key order kept), on messages generated from the schema itself: valid, just outside a
// rule, and changed at one random place.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseServerMessage, serverMessageSchema } from '../src/index.js';
import { arbitraryOf, type JsonSchema, mutate } from './support/json-schema-arbitrary.js';

const schema = z.toJSONSchema(serverMessageSchema, { io: 'output' }) as JsonSchema;
const asReceived = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const messages = arbitraryOf(schema).map(asReceived);
const nearMisses = arbitraryOf(schema, { nearMissEvery: 10 }).map(asReceived);
const changed = fc
  .tuple(
    messages,
    fc.nat(),
    fc.constantFrom('replace', 'delete', 'add-key' as const),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([message, pick, mutation, other]) => mutate(message, pick, mutation, other as never));

function expectSameAsZod(input: unknown): void {
  const zod = serverMessageSchema.safeParse(input);
  const ours = parseServerMessage(input);
  if (!zod.success) {
    expect(ours, zod.error.message).toBeNull();
    return;
  }
  expect(ours, JSON.stringify(input)).not.toBeNull();
  expect(isDeepStrictEqual(ours, zod.data)).toBe(true);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(zod.data));
}

describe('parseServerMessage answers as serverMessageSchema.safeParse', () => {
  it('on every message the schema describes', () => {
    fc.assert(fc.property(messages, expectSameAsZod), { numRuns: 500 });
  });

  it('on messages with values just outside their rules', () => {
    fc.assert(fc.property(nearMisses, expectSameAsZod), { numRuns: 1500 });
  });

  it('on messages changed at one random place', () => {
    fc.assert(fc.property(changed, expectSameAsZod), { numRuns: 1500 });
  });

  it('on chosen edge cases', () => {
    const state = { type: 'state', revision: 1, savedAt: 2, origin: 'o' };
    const cases: unknown[] = [
      null,
      [],
      'ready',
      { type: 'nope' },
      { type: '__proto__', revision: 1 },
      { type: 'toString', revision: 1 },
      state,
      { ...state, state: null, extra: true },
      { ...state, state: undefined },
      { ...state, state: {}, revision: 1.5 },
      { ...state, state: {}, revision: -1 },
      { ...state, state: {}, revision: 2 ** 60 },
      { ...state, state: {}, savedAt: Number.NaN },
      { type: 'ready', revision: 0, epoch: 'e'.repeat(65) },
      { type: 'ready', revision: 0, epoch: undefined },
      // Zod counts a string's length in code points: 80 units, 40 code points, fits 64.
      { type: 'ready', revision: 0, epoch: '😀'.repeat(40) },
      { type: 'ready', revision: 0, epoch: '😀'.repeat(65) },
      { type: 'status', store: 'sideways' },
      { type: 'error', status: 409, error: 'conflict', message: 'm', current: { revision: 1 } },
      {
        type: 'error',
        status: -1.5,
        error: 'conflict',
        message: 'm',
        current: { state: {}, revision: 1, savedAt: 1, more: 1 },
      },
      {
        type: 'patch',
        revision: 2,
        baseRevision: 1,
        savedAt: 1,
        origin: 'o',
        patch: [
          { op: 'remove', path: '/a', value: 1 },
          { op: 'add', path: '/b' },
        ],
      },
      {
        type: 'patch',
        revision: 2,
        baseRevision: 1,
        savedAt: 1,
        origin: 'o',
        patch: [{ op: 'move', from: '/a', path: '/b' }],
      },
    ];
    for (const input of cases) expectSameAsZod(input);
  });
});
