// RFC 7386 (JSON Merge Patch) and RFC 6902 (JSON Patch) as applied by PATCH.
import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStatePatchRequest,
  JSON_PATCH_CONTENT_TYPE,
  jsonPatchDocumentSchema,
  MERGE_PATCH_CONTENT_TYPE,
  StatePatchError,
} from '../src/index.js';

describe('applyMergePatch (RFC 7386, appendix A)', () => {
  const examples: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of examples) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)} = ${JSON.stringify(result)}`, () => {
      const before = structuredClone(target);
      expect(applyMergePatch(target, patch)).toEqual(result);
      expect(target).toEqual(before);
    });
  }

  it('never sets a prototype through __proto__', () => {
    const patched = applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as object;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect((patched as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  it('applies to a copy and names the operation that fails', () => {
    const document = { a: { b: 1 } };
    expect(applyJsonPatch(document, [{ op: 'replace', path: '/a/b', value: 2 }])).toEqual({
      a: { b: 2 },
    });
    expect(document).toEqual({ a: { b: 1 } });
    expect(() =>
      applyJsonPatch(document, [
        { op: 'test', path: '/a/b', value: 1 },
        { op: 'test', path: '/a/b', value: 3 },
      ]),
    ).toThrow(StatePatchError);
    const failure = (() => {
      try {
        applyJsonPatch(document, [{ op: 'remove', path: '/missing' }]);
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(StatePatchError);
    expect((failure as StatePatchError).operationIndex).toBe(0);
    expect((failure as Error).message).toContain('patch operation 0 (remove /missing)');
  });

  it('takes every RFC operation and refuses others', () => {
    expect(
      jsonPatchDocumentSchema.safeParse([
        { op: 'move', from: '/a', path: '/b' },
        { op: 'copy', from: '/a', path: '/b' },
      ]).success,
    ).toBe(true);
    expect(jsonPatchDocumentSchema.safeParse([{ op: 'merge', path: '/a' }]).success).toBe(false);
  });

  it('parses each operation with its own fields and refuses one missing a field', () => {
    const complete = [
      { op: 'add', path: '/a', value: 1 },
      { op: 'remove', path: '/a' },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'move', from: '/a', path: '/b' },
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'test', path: '/a', value: 3 },
    ];
    const parsed = jsonPatchDocumentSchema.safeParse(complete);
    expect(parsed.success && parsed.data).toEqual(complete);
    // Each operation without its path, and move/copy without `from`, is refused.
    for (const operation of complete) {
      const { path: _path, ...withoutPath } = operation;
      expect(jsonPatchDocumentSchema.safeParse([withoutPath]).success).toBe(false);
    }
    expect(jsonPatchDocumentSchema.safeParse([{ op: 'move', path: '/b' }]).success).toBe(false);
    expect(jsonPatchDocumentSchema.safeParse([{ op: 'copy', path: '/b' }]).success).toBe(false);
    expect(jsonPatchDocumentSchema.safeParse([{ op: '', path: '/a' }]).success).toBe(false);
  });

  it('dispatches on the content type', () => {
    expect(
      applyStatePatchRequest({ a: 1 }, { contentType: MERGE_PATCH_CONTENT_TYPE, patch: { b: 2 } }),
    ).toEqual({ a: 1, b: 2 });
    expect(
      applyStatePatchRequest(
        { a: 1 },
        { contentType: JSON_PATCH_CONTENT_TYPE, patch: [{ op: 'remove', path: '/a' }] },
      ),
    ).toEqual({});
  });
});
