import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { canonicalJsonEnd } from '../src/index.js';

/** The end the matcher finds for `value` inside `{"state":<text>}`, or -1. */
function endInBody(value: unknown, stateText: string): number {
  const body = `{"state":${stateText}}`;
  return canonicalJsonEnd(value, body, 9);
}

function expectCanonical(value: unknown): void {
  const text = JSON.stringify(value);
  expect(endInBody(value, text)).toBe(9 + text.length);
  expect(canonicalJsonEnd(JSON.parse(text), text, 0)).toBe(text.length);
}

describe('canonicalJsonEnd', () => {
  it('finds the exact serialisation of states and JSON values', () => {
    expectCanonical(makeState());
    expectCanonical(makeState({ targetBytes: 10_240, alerts: 20 }));
    expectCanonical(makeState({ activeProject: null }));
    for (const value of [
      null,
      true,
      false,
      0,
      7,
      1.5,
      -2.25,
      1e21,
      5e-7,
      Number.MAX_SAFE_INTEGER,
      '',
      'plain',
      'é and € and 😀 in a long enough string to be sliced, not walked',
      [],
      {},
      [1, 'a', null, { b: [true] }],
      { '1': 'integer keys come first', b: 2 },
    ]) {
      expectCanonical(value);
    }
  });

  it('reads the received text: the parsed value of a canonical body matches it', () => {
    const text = JSON.stringify(makeState({ targetBytes: 4096 }));
    const body = `{"state":${text},"origin":"tab-1"}`;
    const parsed = JSON.parse(body) as { state: unknown };
    expect(canonicalJsonEnd(parsed.state, body, 9)).toBe(9 + text.length);
    expect(body.slice(9, 9 + text.length)).toBe(JSON.stringify(parsed.state));
  });

  it('answers -1 for any other spelling of the same value', () => {
    const spellings: [unknown, string][] = [
      [{ a: 1 }, '{ "a": 1 }'],
      [{ a: 1 }, '{"a":1.0}'],
      [{ a: 1000 }, '{"a":1e3}'],
      [{ a: 0 }, '{"a":-0}'],
      [{ a: 1 }, '{"a":01}'],
      [{ a: 1.5 }, '{"a":1.50}'],
      [{ a: 'A' }, '{"a":"\\u0041"}'],
      [{ a: 'a/b' }, '{"a":"a\\/b"}'],
      [{ a: 'x'.repeat(40) }, `{"a":"${'x'.repeat(20)}\\u0078${'x'.repeat(19)}"}`],
      [{ a: 1, b: 2 }, '{"b":2,"a":1}'],
      [{ a: [1, 2] }, '{"a":[1 ,2]}'],
      [true, 'false'],
      [null, 'nul'],
    ];
    for (const [value, text] of spellings) {
      expect({ text, end: canonicalJsonEnd(value, text, 0) }).toEqual({ text, end: -1 });
    }
  });

  it('answers -1 for a body with a duplicate key (the parsed value keeps the last one)', () => {
    const body = '{"state":{"a":1,"a":2}}';
    const parsed = JSON.parse(body) as { state: unknown };
    expect(parsed.state).toEqual({ a: 2 });
    expect(canonicalJsonEnd(parsed.state, body, 9)).toBe(-1);
    const long = 'y'.repeat(40);
    const twice = `{"state":{"a":"${long}","a":"${long}"}}`;
    expect(canonicalJsonEnd(JSON.parse(twice).state, twice, 9)).toBe(-1);
  });

  it('answers -1 for strings JSON.stringify would escape', () => {
    for (const value of ['say "hi"', 'back\\slash', 'line\nbreak', 'tab\t', 'lone \ud800']) {
      const text = JSON.stringify({ a: value });
      expect(canonicalJsonEnd({ a: value }, text.replace(/\\/g, ''), 0)).toBe(-1);
    }
    const long = `${'z'.repeat(40)}"quoted"`;
    const escaped = JSON.stringify(long);
    expect(canonicalJsonEnd(long, escaped, 0)).toBe(-1);
  });

  it('answers -1 for values JSON.stringify treats specially', () => {
    expect(canonicalJsonEnd({ a: undefined }, '{}', 0)).toBe(-1);
    expect(canonicalJsonEnd(Number.NaN, 'null', 0)).toBe(-1);
    expect(canonicalJsonEnd(new Date(0), '"1970-01-01T00:00:00.000Z"', 0)).toBe(-1);
    expect(canonicalJsonEnd({ toJSON: () => 1 }, '1', 0)).toBe(-1);
    const list = Object.assign([1], { toJSON: () => 'x' });
    expect(canonicalJsonEnd(list, '[1]', 0)).toBe(-1);
    expect(canonicalJsonEnd(10n, '10', 0)).toBe(-1);
    expect(canonicalJsonEnd([undefined], '[null]', 0)).toBe(-1);
  });

  it('answers -1 when the text ends early or the start is elsewhere', () => {
    const text = JSON.stringify(makeState());
    const value = JSON.parse(text) as unknown;
    expect(canonicalJsonEnd(value, text.slice(0, -1), 0)).toBe(-1);
    expect(canonicalJsonEnd(value, ` ${text}`, 0)).toBe(-1);
    expect(canonicalJsonEnd(value, text, 1)).toBe(-1);
  });
});
