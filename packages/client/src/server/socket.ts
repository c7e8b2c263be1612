// The socket the connection talks through, and what arrives on it: the part of WebSocket
// the engine uses (the browser's and the `ws` package's both fit), the token source, the
// close codes the server uses, and the parse of an incoming frame.
import { type ParsedServerMessage, parseServerMessage } from '@hyvve/schema';

interface SocketEvents {
  open: unknown;
  error: unknown;
  close: { code: number; reason: string };
  message: { data: unknown };
}

/** The part of WebSocket the engine uses: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener<K extends keyof SocketEvents>(
    type: K,
    listener: (event: SocketEvents[K]) => void,
  ): void;
  removeEventListener<K extends keyof SocketEvents>(
    type: K,
    listener: (event: SocketEvents[K]) => void,
  ): void;
}

export type SocketFactory = (url: string) => SocketLike;
/** Returns a token for the socket's first message; called before every (re)connect. */
export type GetToken = () => string | Promise<string>;

/** `readyState` of an open socket. */
export const SOCKET_OPEN = 1;
// The two close codes as numbers: referring to the schema's `CloseCode` object would put
// all of it in every page (a bundler cannot take one property of an object). The
// server-sync protocol test holds them equal to `CloseCode`.
/** Close code the server uses for a missing or invalid token (`CloseCode.unauthorized`). */
export const AUTH_FAILED_CLOSE_CODE = 4401;
/** Close code for a socket that drained nothing for `WS_STALL_TIMEOUT_MS` (`CloseCode.stalled`). */
export const STALLED_CLOSE_CODE = 4408;

/** A parsed server message; `state` fields are still unchecked (`unknown`). */
export type IncomingServerMessage = ParsedServerMessage;

/** A token as getToken must give it; throws otherwise (reported as a TokenError). */
export function checkedToken(token: unknown): string {
  if (typeof token !== 'string' || token.length === 0) throw new Error('empty token');
  return token;
}

/** The browser's WebSocket; throws where there is none (the connection reports it). */
export function defaultSocketFactory(): SocketFactory {
  return (url) => {
    if (typeof WebSocket === 'undefined') throw new Error('no WebSocket in this environment');
    return new WebSocket(url);
  };
}

/** A `401` error without an id: the answer to an in-band token renewal. */
export function isAuthError(message: IncomingServerMessage): boolean {
  return message.type === 'error' && message.id === undefined && message.status === 401;
}

/** The frame as a known server message, or null. */
export function parseMessage(data: unknown): IncomingServerMessage | null {
  if (typeof data !== 'string') return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  // Checked as serverMessageSchema checks it, without Zod's runtime in the browser. `state`
  // stays unknown here: the sync layer validates it once, when it decides to apply it.
  return parseServerMessage(json);
}
