// The largest WebSocket message the subscribe route reads, enforced per socket. When the
// host app registered @fastify/websocket itself, its server's maxPayload applies (ws
// defaults to 100 MiB); this lowers it for our sockets only, leaving the host's others be.
import type { WebSocket } from 'ws';

interface PayloadLimited {
  _maxPayload: number;
}

function isPayloadLimited(value: unknown): value is PayloadLimited {
  return (
    typeof value === 'object' &&
    value !== null &&
    '_maxPayload' in value &&
    typeof value._maxPayload === 'number'
  );
}

function lower(target: unknown, maxBytes: number): boolean {
  if (!isPayloadLimited(target)) return false;
  // ws reads 0 as "no limit".
  if (target._maxPayload === 0 || target._maxPayload > maxBytes) target._maxPayload = maxBytes;
  return true;
}

/**
 * Caps the messages `socket` accepts at `maxBytes` (a larger one closes it with 1009).
 * Returns false when ws's internals are not where expected (then the server's own
 * maxPayload is all that applies).
 */
export function limitMessageSize(socket: WebSocket, maxBytes: number): boolean {
  const receiver: unknown = Reflect.get(socket, '_receiver');
  const limited = lower(receiver, maxBytes);
  // A compressed message is also checked after inflating it.
  const extensions: unknown = Reflect.get(socket, '_extensions');
  if (typeof extensions === 'object' && extensions !== null) {
    lower(Reflect.get(extensions, 'permessage-deflate'), maxBytes);
  }
  return limited;
}
