// Whether a JSON text already holds, byte for byte, what JSON.stringify(value) would write.
// A save's body carries the state as the client serialised it; when that text is exactly
// the canonical serialisation of the validated state it can be stored as received, and
// the server skips serialising 10 KB again. Anything else (whitespace, `1.0` for 1, `\u0041`
// for A, another key order, a duplicate key) answers "no" and the caller serialises.

const QUOTE = 0x22;
const BACKSLASH = '\\';
/** Longest string compared character by character rather than as a slice. */
const SHORT_STRING = 32;

/**
 * `end` such that `text.slice(start, end) === JSON.stringify(value)`, or -1 when that is
 * not so. Values other than null, booleans, finite numbers, strings, arrays and plain
 * objects (those JSON.stringify treats specially, like `undefined`, functions, `toJSON`,
 * Infinity) answer -1.
 *
 * Precondition: `text` is a JSON text that JSON.parse accepts, well-formed UTF-16 (as any
 * text decoded from UTF-8 is), and a value begins at `start`. Under it, a string literal
 * with no backslash holds its value verbatim and no character JSON.stringify would escape
 * (raw quotes end a literal, raw control characters are not JSON, lone surrogates are
 * not well-formed), so strings are compared, never scanned character by character.
 */
export function canonicalJsonEnd(value: unknown, text: string, start: number): number {
  return new CanonicalMatcher(text).match(value, start);
}

class CanonicalMatcher {
  /** Index of the first backslash at or after the last lookup (text.length when none). */
  private backslash = -1;

  constructor(private readonly text: string) {}

  match(value: unknown, at: number): number {
    switch (typeof value) {
      case 'string':
        return this.string(value, at);
      case 'number':
        return this.number(value, at);
      case 'boolean':
        return this.literal(value ? 'true' : 'false', at);
      case 'object':
        if (value === null) return this.literal('null', at);
        return Array.isArray(value) ? this.array(value, at) : this.object(value, at);
      default:
        return -1;
    }
  }

  private literal(word: string, at: number): number {
    return this.text.startsWith(word, at) ? at + word.length : -1;
  }

  private number(value: number, at: number): number {
    if (Number.isSafeInteger(value) && value >= 0) return this.wholeNumber(value, at);
    if (!Number.isFinite(value)) return -1;
    const written = String(value);
    if (!this.text.startsWith(written, at)) return -1;
    const end = at + written.length;
    // `1.50` or `1e3` start with what String(1.5) / String(1) write, but are other spellings.
    return isNumberCharacter(this.text.charCodeAt(end)) ? -1 : end;
  }

  /**
   * A non-negative safe integer is written as its digits with no leading zero: read the
   * digits instead of formatting the number (most of a state's numbers are ms timestamps).
   */
  private wholeNumber(value: number, at: number): number {
    const { text } = this;
    let position = at;
    let read = 0;
    let code = text.charCodeAt(position);
    while (code >= 0x30 && code <= 0x39 && read <= value) {
      read = read * 10 + (code - 0x30);
      code = text.charCodeAt(++position);
    }
    const digits = position - at;
    if (digits === 0 || read !== value || (digits > 1 && text.charCodeAt(at) === 0x30)) return -1;
    return isNumberCharacter(code) ? -1 : position;
  }

  private string(value: string, at: number): number {
    const { text } = this;
    const end = at + 1 + value.length;
    if (text.charCodeAt(at) !== QUOTE || text.charCodeAt(end) !== QUOTE) return -1;
    if (value.length > SHORT_STRING) return this.longString(value, at, end);
    // Compared in place (a slice would copy it); a character JSON.stringify escapes
    // (or a surrogate, to keep this simple) answers no.
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code === QUOTE || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) {
        return -1;
      }
      if (text.charCodeAt(at + 1 + i) !== code) return -1;
    }
    return end + 1;
  }

  /** Kept apart so `string`, called for every key, stays small enough to inline. */
  private longString(value: string, at: number, end: number): number {
    const { text } = this;
    if (this.backslash < at) {
      const next = text.indexOf(BACKSLASH, at);
      this.backslash = next === -1 ? text.length : next;
    }
    // An escape in the literal means the text spells the value another way than verbatim.
    if (this.backslash < end) return -1;
    // The first quote after the opening one closes the literal: it must be at `end`.
    if (text.indexOf('"', at + 1) !== end) return -1;
    // A slice compares as one block (startsWith walks character by character).
    return text.slice(at + 1, end) === value ? end + 1 : -1;
  }

  private array(value: readonly unknown[], at: number): number {
    const { text } = this;
    // JSON.stringify would call an own `toJSON` instead of writing the elements.
    if (text.charCodeAt(at) !== 0x5b || (value as { toJSON?: unknown }).toJSON !== undefined) {
      return -1;
    }
    let position = at + 1;
    for (let i = 0; i < value.length; i++) {
      if (i > 0) {
        if (text.charCodeAt(position) !== 0x2c) return -1;
        position++;
      }
      position = this.match(value[i], position);
      if (position < 0) return -1;
    }
    return text.charCodeAt(position) === 0x5d ? position + 1 : -1;
  }

  private object(value: object, at: number): number {
    const { text } = this;
    const proto: unknown = Object.getPrototypeOf(value);
    if (text.charCodeAt(at) !== 0x7b || (proto !== Object.prototype && proto !== null)) return -1;
    const fields = value as Record<string, unknown>;
    let position = at + 1;
    let first = true;
    // for-in over a plain object visits its own enumerable keys in JSON.stringify's order.
    for (const key in fields) {
      if (!first) {
        if (text.charCodeAt(position) !== 0x2c) return -1;
        position++;
      }
      first = false;
      position = this.string(key, position);
      if (position < 0 || text.charCodeAt(position) !== 0x3a) return -1;
      position = this.match(fields[key], position + 1);
      if (position < 0) return -1;
    }
    return text.charCodeAt(position) === 0x7d ? position + 1 : -1;
  }
}

/** Characters a JSON number token can continue with: digits, `.`, `e`, `E`, `+`, `-`. */
function isNumberCharacter(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2e ||
    code === 0x65 ||
    code === 0x45 ||
    code === 0x2b ||
    code === 0x2d
  );
}
