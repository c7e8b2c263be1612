// The browser's own JSON Patch apply (state-patch.ts) answers as fast-json-patch does
// (`applyOperation` with validation, as the library is used on the server): on generated
// documents and patches of add / remove / replace, both refuse or both give the same
// document, to the key order. Paths are walked from the document (so most lead somewhere)
// and then bent: a key past the end, `-`, `length`, escapes, a step into a value.
// Where the library departs from the RFC (it reads an array index with `~~`, so `add`
// takes "" as 0 and "01" as 1; it removes "from" a falsy primitive document without
// complaint), this code follows the RFC; those cases are pinned apart.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
// The library's strict-mode module, as the server's json-patch.ts applies it.
import { applyOperation } from 'fast-json-patch/module/core.mjs';
import { describe, expect, it } from 'vitest';
import { applyStatePatch, parsePointer, type StatePatch, StatePatchError } from '../src/index.js';

/** Object keys: plain, digits, ones that need escaping; none inherited from Object. */
const objectKey = fc.constantFrom('a', 'b', 'c', '0', '1', 'a/b', '~x', '~1', '');
const leaf = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
);
const { document } = fc.letrec((tie) => ({
  document: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('document'), { maxLength: 4 }),
    fc.dictionary(objectKey, tie('document'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
const rootDocument = fc.oneof(
  fc.dictionary(objectKey, document, { minKeys: 1, maxKeys: 5, noNullPrototype: true }),
  fc.array(document, { minLength: 1, maxLength: 5 }),
);
/** A last key that may or may not be there. */
const bentKey = fc.constantFrom('-', '0', '1', '2', '5', 'length', 'a', 'z', '~1', '~0', '~');

const escapeKey = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A pointer into `value`: `steps` pick existing keys, then maybe one more key. */
function pathInto(value: unknown, steps: number[], extra: string | null): string {
  const keys: string[] = [];
  let at = value;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') break;
    const names = Object.keys(at);
    if (names.length === 0) break;
    const name = names[step % names.length] as string;
    keys.push(name);
    at = (at as Record<string, unknown>)[name];
  }
  if (extra !== null) keys.push(extra);
  return keys.map((key) => `/${escapeKey(key)}`).join('');
}

const operationSpec = fc.record({
  op: fc.constantFrom('add', 'remove', 'replace' as const),
  steps: fc.array(fc.nat(), { maxLength: 4 }),
  extra: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: fc.oneof(bentKey, objectKey), weight: 2 },
  ),
  value: fc.jsonValue({ maxDepth: 2 }),
  form: fc.constantFrom(...Array<'walked'>(8).fill('walked'), 'root', 'no-slash'),
});

type Spec = typeof operationSpec extends fc.Arbitrary<infer T> ? T : never;

function toOperation(current: unknown, spec: Spec): StatePatch[number] {
  const path =
    spec.form === 'root'
      ? ''
      : spec.form === 'no-slash'
        ? 'a'
        : pathInto(current, spec.steps, spec.extra);
  return spec.op === 'remove'
    ? { op: 'remove', path }
    : { op: spec.op, path, value: structuredClone(spec.value) };
}

/**
 * Where the library departs from the RFC: it reads an array index as `~~key` instead of
 * RFC 6901's digits, and skips its checks on a falsy document (`false`, `0`, `''`, left by
 * an operation on the root), so removing anything from one "succeeds".
 */
function libraryDeparts(current: unknown, path: string, op: string): boolean {
  if (path === '' || !path.startsWith('/')) return false;
  if (op === 'remove' && current !== null && !current) return true;
  if (op !== 'add') return false;
  const keys = parsePointer(path);
  const last = keys.pop() as string;
  let at = current;
  for (const key of keys) {
    if (at === null || typeof at !== 'object') return false;
    at = (at as Record<string, unknown>)[key];
  }
  return Array.isArray(at) && (last === '' || /^0\d/.test(last));
}

/** The library's answer, operation by operation on a copy: the document, or `error`. */
function libraryApply(base: unknown, patch: StatePatch): unknown {
  let result = structuredClone(base);
  try {
    for (const [index, operation] of patch.entries()) {
      result = applyOperation(
        result,
        structuredClone(operation),
        true,
        true,
        true,
        index,
      ).newDocument;
    }
  } catch {
    return 'error';
  }
  return result;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Builds the patch against the library's document as it goes, up to its first failure. */
function buildPatch(base: unknown, specs: Spec[]): StatePatch {
  const patch: StatePatch = [];
  let current = structuredClone(base);
  for (const spec of specs) {
    const operation = toOperation(current, spec);
    if (libraryDeparts(current, operation.path, operation.op)) break;
    patch.push(operation);
    const next = libraryApply(current, [operation]);
    if (next === 'error') break;
    current = next;
  }
  return patch;
}

describe('applyStatePatch answers as fast-json-patch', () => {
  it('on generated documents and patches', () => {
    fc.assert(
      fc.property(
        rootDocument,
        fc.array(operationSpec, { minLength: 1, maxLength: 5 }),
        (base, specs) => {
          const patch = buildPatch(base, specs);
          const expected = libraryApply(base, patch);
          const frozen = deepFreeze(structuredClone(base));
          let ours: unknown;
          try {
            ours = applyStatePatch(frozen, patch);
          } catch (error) {
            expect(error).toBeInstanceOf(StatePatchError);
            ours = 'error';
          }
          const context = JSON.stringify({ base, patch });
          expect(ours === 'error', context).toBe(expected === 'error');
          expect(isDeepStrictEqual(ours, expected), context).toBe(true);
          expect(JSON.stringify(ours), context).toBe(JSON.stringify(expected));
          expect(isDeepStrictEqual(frozen, base)).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses the array indexes RFC 6901 refuses, which the library reads with ~~', () => {
    const base = { list: [1, 2, 3] };
    for (const path of ['/list/', '/list/01', '/list/00', '/list/4294967296']) {
      expect(() => applyStatePatch(base, [{ op: 'add', path, value: 9 }])).toThrow(StatePatchError);
    }
    // The library inserts these at index 0, 1 and (4294967296 | 0 =) 0.
    expect(libraryApply(base, [{ op: 'add', path: '/list/', value: 9 }])).toEqual({
      list: [9, 1, 2, 3],
    });
    expect(libraryApply(base, [{ op: 'add', path: '/list/01', value: 9 }])).toEqual({
      list: [1, 9, 2, 3],
    });
    expect(libraryApply(base, [{ op: 'add', path: '/list/4294967296', value: 9 }])).toEqual({
      list: [9, 1, 2, 3],
    });
  });

  it('refuses to remove from a document an operation replaced with a primitive', () => {
    const patch: StatePatch = [
      { op: 'replace', path: '', value: 0 },
      { op: 'remove', path: '/a' },
    ];
    expect(() => applyStatePatch({ a: 1 }, patch)).toThrow(StatePatchError);
    expect(libraryApply({ a: 1 }, patch)).toBe(0);
  });
});
