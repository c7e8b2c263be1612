// A chain of patches that waited together for one socket leaves as one patch message:
// applied to the chain's base it must give exactly the newest state, for any states.
import { applyStatePatch, diffStates } from '@hyvve/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  composePatchMessages,
  createPatchMessage,
  type PatchMessage,
} from '../src/socket/fan-out/patch-frame.js';

/** The patch messages of `states` in turn (revision i+1 is states[i]), each against the one before. */
function chainOf(states: object[], firstRevision = 1): PatchMessage[] {
  return states.slice(1).map((state, index) =>
    createPatchMessage({
      revision: firstRevision + index + 1,
      baseRevision: firstRevision + index,
      savedAt: 1000 + index,
      origin: `device-${index}`,
      operations: JSON.stringify(diffStates(states[index] as object, state)),
    }),
  );
}

/**
 * A state as the wire carries it. `fc.jsonValue` can hold `-0` (as `JSON.parse('-0')` does), but
 * every state and patch leaves a server through `JSON.stringify`, which writes it `0`: JSON has
 * one zero, so the states are compared after that same trip.
 */
const asWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/**
 * No stored state has a `__proto__` or `constructor.prototype` key: HTTP and socket saves
 * refuse them (Fastify's JSON rules), and patches never write them. `fc.jsonValue` makes them.
 */
const storable = (state: object): boolean =>
  !/"(__proto__|prototype)":/.test(JSON.stringify(state));

const jsonObject = fc
  .dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .filter(storable);

/**
 * Counterexamples fast-check found in CI (commit 5f98cfb), replayed on every run whatever
 * the seed: `-0` inside a list (the wire writes it `0`), and keys that only look special.
 */
const pastCounterexamples: [object[]][] = [
  [[{}, { '': [-0] }]],
  [[{ a: -0 }, { a: 0, b: { '': -0 } }]],
  [[JSON.parse('{"constructor": {"x": 1}}'), JSON.parse('{"constructor": {}, "toString": 1}')]],
];

describe('composePatchMessages', () => {
  it('takes the chain base to the newest state, for any chain of states (property)', () => {
    fc.assert(
      fc.property(fc.array(jsonObject, { minLength: 2, maxLength: 6 }), (states) => {
        const chain = chainOf(states);
        const composed = composePatchMessages(chain);
        const message = JSON.parse(composed.payload.toString('utf8'));
        expect(asWire(applyStatePatch(states[0], message.patch))).toEqual(
          asWire(states[states.length - 1]),
        );
        expect(message).toMatchObject({
          type: 'patch',
          revision: states.length,
          baseRevision: 1,
          savedAt: 1000 + states.length - 2,
          origin: `device-${states.length - 2}`,
        });
      }),
      { numRuns: 300, examples: pastCounterexamples },
    );
  });

  it('is the patch itself for a chain of one, and shared by sockets holding the same chain', () => {
    const chain = chainOf([{ a: 1 }, { a: 2 }, { a: 3, b: [1] }, { b: [] }]);
    expect(composePatchMessages(chain.slice(0, 1))).toBe(chain[0]);
    const composed = composePatchMessages(chain);
    expect(composePatchMessages([...chain])).toBe(composed);
    // Another start on the same end is another message, cached beside the first.
    const fromTwo = composePatchMessages(chain.slice(1));
    expect(fromTwo).not.toBe(composed);
    expect(JSON.parse(fromTwo.payload.toString()).baseRevision).toBe(2);
    expect(composePatchMessages(chain.slice(1))).toBe(fromTwo);
  });

  it('skips patches without operations and refuses an empty chain', () => {
    const chain = chainOf([{ a: 1 }, { a: 1 }, { a: 2 }]);
    const composed = JSON.parse(composePatchMessages(chain).payload.toString());
    expect(composed.patch).toEqual([{ op: 'replace', path: '/a', value: 2 }]);
    expect(() => composePatchMessages([])).toThrow(RangeError);
  });
});
