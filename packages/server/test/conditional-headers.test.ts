import { describe, expect, it } from 'vitest';
import { etagOf, matchesIfNoneMatch, parseIfMatch } from '../src/http/conditional-headers.js';
import { InvalidRequestError } from '../src/index.js';

describe('revision entity tags', () => {
  it('writes epoch and revision as a strong tag, the bare revision without an epoch', () => {
    expect(etagOf(12, '1764424800123456')).toBe('"1764424800123456.12"');
    expect(etagOf(12)).toBe('"12"');
  });

  it('reads If-Match as "<epoch>.<revision>" or a quoted, weak or bare revision; * or absent means no condition', () => {
    expect(parseIfMatch('"abc_1-2.12"')).toEqual({ revision: 12, epoch: 'abc_1-2' });
    expect(parseIfMatch('"12"')).toEqual({ revision: 12 });
    expect(parseIfMatch('W/"3"')).toEqual({ revision: 3 });
    expect(parseIfMatch(' 7 ')).toEqual({ revision: 7 });
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(() => parseIfMatch('"abc"')).toThrow(InvalidRequestError);
    expect(() => parseIfMatch('"a.b.12"')).toThrow(InvalidRequestError);
  });

  it('matches If-None-Match lists and *; a tag with an epoch must match both', () => {
    expect(matchesIfNoneMatch('"1", "2"', 2)).toBe(true);
    expect(matchesIfNoneMatch('"1"', 2)).toBe(false);
    expect(matchesIfNoneMatch('*', 2)).toBe(true);
    expect(matchesIfNoneMatch('junk', 2)).toBe(false);
    expect(matchesIfNoneMatch(undefined, 2)).toBe(false);
    expect(matchesIfNoneMatch('"e1.2"', 2, 'e1')).toBe(true);
    expect(matchesIfNoneMatch('"e0.2"', 2, 'e1')).toBe(false);
    expect(matchesIfNoneMatch('"2"', 2, 'e1')).toBe(true);
  });

  it('takes nothing after the tag, trims * and list entries, and says what it expects', () => {
    expect(parseIfMatch('"12"')).toStrictEqual({ revision: 12 });
    expect(parseIfMatch(' * ')).toBeUndefined();
    expect(() => parseIfMatch('"12"x')).toThrow(InvalidRequestError);
    expect(() => parseIfMatch('12 13')).toThrow(
      'If-Match must be an ETag like "<epoch>.12" or a revision like "12"',
    );
    expect(matchesIfNoneMatch('"1", *', 2)).toBe(true);
    expect(matchesIfNoneMatch('"2"x', 2)).toBe(false);
  });
});
