import { describe, expect, it } from 'vitest';
import { etagOf, matchesIfNoneMatch, parseIfMatch } from '../src/http/conditional-headers.js';
import { InvalidRequestError } from '../src/index.js';

describe('revision entity tags', () => {
  it('writes a revision as a strong tag', () => {
    expect(etagOf(12)).toBe('"12"');
  });

  it('reads If-Match as a quoted, weak or bare revision; * or absent means no condition', () => {
    expect(parseIfMatch('"12"')).toBe(12);
    expect(parseIfMatch('W/"3"')).toBe(3);
    expect(parseIfMatch(' 7 ')).toBe(7);
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(() => parseIfMatch('"abc"')).toThrow(InvalidRequestError);
  });

  it('matches If-None-Match lists and *', () => {
    expect(matchesIfNoneMatch('"1", "2"', 2)).toBe(true);
    expect(matchesIfNoneMatch('"1"', 2)).toBe(false);
    expect(matchesIfNoneMatch('*', 2)).toBe(true);
    expect(matchesIfNoneMatch('junk', 2)).toBe(false);
    expect(matchesIfNoneMatch(undefined, 2)).toBe(false);
  });
});
