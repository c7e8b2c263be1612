// UTF-8 size of text, counted without encoding it (no allocation, also for a 1 MB state):
// the one size rule of client and server, so a state the browser accepts is never refused
// by the server for its size, and the other way round. Node's native `Buffer.byteLength`
// counts the same (the tests hold the two equal) ten times faster, so it is used where it
// exists; browsers count in JavaScript, skipping the ASCII prefix with a native search.
import { MAX_STATE_SIZE_BYTES } from './constants.js';

/** The first unit above U+007F (everything before it is 1 byte per unit). */
const NON_ASCII = /[\u0080-\uffff]/;

type ByteLength = (text: string, encoding: 'utf8') => number;
const nativeByteLength: ByteLength | undefined = (
  globalThis as { Buffer?: { byteLength?: ByteLength } }
).Buffer?.byteLength;

/**
 * Exact UTF-8 byte length of `text`, as `TextEncoder` and `Buffer.byteLength` count it:
 * U+0000–U+007F 1 byte, up to U+07FF 2, the rest of the BMP 3, a surrogate pair 4, and a
 * lone surrogate 3 (both encoders write it as U+FFFD).
 */
export function utf8ByteLength(text: string): number {
  return nativeByteLength === undefined ? countUtf8Bytes(text) : nativeByteLength(text, 'utf8');
}

/** `utf8ByteLength` in plain JavaScript (what browsers run; exported for its tests). */
export function countUtf8Bytes(text: string): number {
  const length = text.length;
  // Every unit is at least 1 byte; add what the wider ones need beyond that.
  let bytes = length;
  const firstWide = text.search(NON_ASCII);
  if (firstWide === -1) return length;
  for (let i = firstWide; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    // 3 bytes for the rest of the BMP and for a lone surrogate; a high surrogate followed
    // by a low one is a pair: 4 bytes for its two units, so the low one is skipped.
    bytes += 2;
    if (unit <= 0xdbff && unit >= 0xd800 && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
  }
  return bytes;
}

/**
 * The UTF-8 size of `text` when it exceeds `limit`, else `null`. Skips the count when
 * the length alone decides (a UTF-16 unit is at most 3 UTF-8 bytes).
 */
export function utf8BytesOverLimit(
  text: string,
  limit: number = MAX_STATE_SIZE_BYTES,
): number | null {
  if (text.length * 3 <= limit) return null;
  const bytes = utf8ByteLength(text);
  return bytes > limit ? bytes : null;
}

/** Size of a value as stored: UTF-8 bytes of its JSON. */
export function stateSizeBytes(value: unknown): number {
  return utf8ByteLength(JSON.stringify(value) ?? '');
}

export function exceedsMaxStateSize(bytes: number, limit: number = MAX_STATE_SIZE_BYTES): boolean {
  return bytes > limit;
}
