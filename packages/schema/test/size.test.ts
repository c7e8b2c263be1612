// The UTF-8 size rule shared by client and server, against the encoders it must agree
// with, for every kind of text: ASCII, 2- and 3-byte characters, surrogate pairs (emoji)
// and lone surrogates.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_STATE_SIZE_BYTES,
  stateSizeBytes,
  utf8ByteLength,
  utf8BytesOverLimit,
} from '../src/index.js';

const encoder = new TextEncoder();

/** Strings of any UTF-16 units, lone surrogates included, weighted towards the edges. */
const anyUnits = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x7ff }),
      fc.integer({ min: 0x800, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.constantFrom(0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000),
    ),
    { maxLength: 64 },
  )
  .map((units) => String.fromCharCode(...units));

describe('utf8ByteLength', () => {
  it("the browser's count (TextEncoder) equals Buffer.byteLength for any UTF-16 text, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.oneof(anyUnits, fc.string({ unit: 'binary' }), fc.string()), (text) => {
        const bytes = encoder.encode(text).byteLength;
        expect(Buffer.byteLength(text, 'utf8')).toBe(bytes);
        expect(utf8ByteLength(text)).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud83d', 3],
    ['\ude00', 3],
    ['\ude00\ud83d', 6],
    ['a\ud83d', 4],
  ])('%j is %i bytes', (text, bytes) => {
    expect(encoder.encode(text).byteLength).toBe(bytes);
    expect(utf8ByteLength(text)).toBe(bytes);
  });

  it('counts a 1 MB state of multi-byte text beyond its UTF-16 length', () => {
    const text = JSON.stringify({ note: 'ü€😀'.repeat(100_000) });
    expect(utf8ByteLength(text)).toBe(encoder.encode(text).byteLength);
    expect(utf8ByteLength(text)).toBeGreaterThan(text.length);
  });
});

describe('utf8ByteLength without Buffer (browsers)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('counts with TextEncoder, the same bytes as Buffer.byteLength', async () => {
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    const size = await import('../src/size.js');
    vi.unstubAllGlobals();
    for (const text of ['', 'abc', 'é€😀', '\ud83d', 'ü€😀'.repeat(1000)]) {
      expect(size.utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});

describe('stateSizeBytes', () => {
  it('is the UTF-8 size of the JSON, and 0 for what JSON cannot write', () => {
    expect(stateSizeBytes({ note: 'é' })).toBe(Buffer.byteLength('{"note":"é"}'));
    expect(stateSizeBytes(undefined)).toBe(0);
    expect(stateSizeBytes(() => 1)).toBe(0);
  });
});

describe('utf8BytesOverLimit', () => {
  it('is null for text within the limit and the exact size above it', () => {
    fc.assert(
      fc.property(anyUnits, fc.nat({ max: 300 }), (text, limit) => {
        const bytes = Buffer.byteLength(text);
        expect(utf8BytesOverLimit(text, limit)).toBe(bytes > limit ? bytes : null);
      }),
    );
  });

  it('catches a state whose UTF-16 length is under the limit but its bytes are over it', () => {
    const text = 'é'.repeat(MAX_STATE_SIZE_BYTES / 2 + 1);
    expect(text.length).toBeLessThan(MAX_STATE_SIZE_BYTES);
    expect(utf8BytesOverLimit(text)).toBe(MAX_STATE_SIZE_BYTES + 2);
  });
});
