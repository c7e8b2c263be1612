// Reading what a client sent over its socket before it is validated: the text of a frame,
// and the `id` and `type` of a decoded message (an error can still name the request).
import type { RawData } from 'ws';

/** The `id` of a message that failed validation, so the error can still name it. */
export function idOf(decoded: unknown): string | undefined {
  if (typeof decoded !== 'object' || decoded === null || !('id' in decoded)) return undefined;
  return typeof decoded.id === 'string' ? decoded.id : undefined;
}

/** The `type` of a decoded message, whatever else it holds. */
export function typeOf(decoded: unknown): unknown {
  return typeof decoded === 'object' && decoded !== null && 'type' in decoded
    ? decoded.type
    : undefined;
}

export function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
