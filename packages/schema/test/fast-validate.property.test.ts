// The fast in-place check and the Zod schema never disagree, on states generated from the
// schema itself (its JSON Schema): complete, with defaults left out, and changed at one
// random place. The fast check answers `valid` exactly when Zod accepts the input and
// returns it unchanged (so the save path may skip Zod); `invalid` only when Zod rejects
// it; `other` (Zod decides) whenever Zod would change it, and may answer it for some
// rejected inputs too (an unknown key beside a missing field: Zod names the failure).
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkDashboardState, dashboardStateSchema, type StateCheck } from '../src/index.js';
import { arbitraryOf, type JsonSchema, mutate } from './support/json-schema-arbitrary.js';

const outputSchema = z.toJSONSchema(dashboardStateSchema, { io: 'output' }) as JsonSchema;
const inputSchema = z.toJSONSchema(dashboardStateSchema, { io: 'input' }) as JsonSchema;
/** As the server receives a state: parsed from JSON text. */
const asReceived = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const completeStates = arbitraryOf(outputSchema).map(asReceived);
const inputStates = arbitraryOf(inputSchema).map(asReceived);
/** Mostly valid, with a value just outside its rule here and there. */
const nearMissStates = arbitraryOf(outputSchema, { nearMissEvery: 40 }).map(asReceived);
const changedStates = fc
  .tuple(
    completeStates,
    fc.nat(),
    fc.constantFrom('replace', 'delete', 'add-key' as const),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([state, pick, mutation, other]) => mutate(state, pick, mutation, other as never));

/** Zod's verdict in the fast check's terms. */
function zodVerdict(input: unknown): StateCheck {
  const parsed = dashboardStateSchema.safeParse(input);
  if (!parsed.success) return 'invalid';
  return isDeepStrictEqual(parsed.data, input) ? 'valid' : 'other';
}

/** Fails unless the fast check's answer is one Zod's verdict allows (see the top). */
function expectAgreement(input: unknown): void {
  const fast = checkDashboardState(input);
  const zod = zodVerdict(input);
  if (zod === 'invalid')
    expect(fast === 'invalid' || fast === 'other', `fast said ${fast}`).toBe(true);
  else expect(fast).toBe(zod);
}

describe('checkDashboardState and dashboardStateSchema agree on every state', () => {
  it('answer valid for every complete state the schema describes', () => {
    fc.assert(
      fc.property(completeStates, (state) => {
        expect(zodVerdict(state)).toBe('valid');
        expect(checkDashboardState(state)).toBe('valid');
      }),
      { numRuns: 300 },
    );
  });

  it('agree on states with defaults left out (Zod fills them in)', () => {
    fc.assert(fc.property(inputStates, expectAgreement), { numRuns: 300 });
  });

  it('agree on states with values just outside their rules (bounds, patterns, sizes)', () => {
    fc.assert(fc.property(nearMissStates, expectAgreement), { numRuns: 2000 });
  });

  it('agree on states changed at one random place (mostly invalid)', () => {
    fc.assert(fc.property(changedStates, expectAgreement), { numRuns: 2000 });
  });
});
