// UTF-8 size of text: the one size rule of client and server, so a state the browser
// accepts is never refused by the server for its size, and the other way round. Node
// counts with `Buffer.byteLength` (no allocation); browsers encode with `TextEncoder`,
// native and a few bytes of code, where a counting loop in JavaScript cost 0.14 kB gzip
// of every page (issue 26). The copy it allocates is made only for text whose length
// alone does not decide (`utf8BytesOverLimit`), just before `setItem` copies it anyway.
import { MAX_STATE_SIZE_BYTES } from './constants.js';

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
  return nativeByteLength === undefined
    ? new TextEncoder().encode(text).length
    : nativeByteLength(text, 'utf8');
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
