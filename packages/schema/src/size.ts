import { MAX_STATE_SIZE_BYTES } from './constants.js';

const encoder = new TextEncoder();

/** UTF-8 byte length of a string, without allocating for pure-ASCII input. */
export function utf8ByteLength(text: string): number {
  // Fast path: a string whose UTF-16 length equals its code units below 0x80 is ASCII.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).byteLength;
}

/** Size of a value as stored: UTF-8 bytes of its JSON. */
export function stateSizeBytes(value: unknown): number {
  return utf8ByteLength(JSON.stringify(value) ?? '');
}

export function exceedsMaxStateSize(bytes: number, limit: number = MAX_STATE_SIZE_BYTES): boolean {
  return bytes > limit;
}
