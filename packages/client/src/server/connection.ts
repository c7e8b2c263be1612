// The WebSocket to `/api/dashboard/state/subscribe`: connect, authenticate with the
// first message (a fresh token from `getToken` on every connect), wait for `ready`,
// hand over parsed messages, and reconnect with backoff and jitter when the socket
// drops. A socket the server closed as stalled (4408: it drained nothing for a long time,
// so it missed changes) reconnects at once, without backoff; the `ready` that follows
// makes the sync layer resync. An epoch counter makes callbacks of a replaced socket
// harmless.
import { type ClientMessage, CloseCode, serverMessageSchema } from '@hyvve/schema';
import {
  InvalidPersistedStateError,
  type PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
  TokenError,
} from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { type BackoffOptions, backoffDelay } from '../timing/backoff.js';
import { scheduleTokenRenewal } from './token-renewal.js';

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

const OPEN = 1;
/** Close code the server uses for a missing or invalid token. */
export const AUTH_FAILED_CLOSE_CODE = CloseCode.unauthorized;
/** Close code the server uses for a socket that drained nothing for `WS_STALL_TIMEOUT_MS`. */
export const STALLED_CLOSE_CODE = CloseCode.stalled;

/** A parsed server message; `state` fields are still unchecked (`unknown`). */
export type IncomingServerMessage = ReturnType<typeof serverMessageSchema.parse>;

export type ConnectionStatus = 'connecting' | 'ready' | 'offline' | 'error';

export interface ConnectionHandlers {
  /**
   * `epoch`: the server's store incarnation, when the server names one; `serverTime`: the
   * server's clock when it sent `ready`, when it says.
   */
  onReady(revision: number, epoch: string | undefined, serverTime: number | undefined): void;
  /** Every message after `ready`. */
  onMessage(message: Exclude<IncomingServerMessage, { type: 'ready' }>): void;
  onStatus(status: ConnectionStatus): void;
}

export interface ServerConnectionOptions {
  subscribeUrl: string;
  getToken: GetToken;
  createSocket: SocketFactory;
  handlers: ConnectionHandlers;
  backoff: BackoffOptions;
  /** Closes and retries when `ready` does not arrive in time. */
  readyTimeoutMs: number;
  logger: PersistenceLogger;
  onError: (error: PersistenceError) => void;
}

export interface ServerConnection {
  start(): void;
  stop(): void;
  /** Sends when the socket is open and authenticated; returns whether it was sent. */
  send(message: ClientMessage): boolean;
  isReady(): boolean;
  /** Skips the backoff wait (e.g. the browser just came back online). */
  reconnectNow(): void;
}

export function createServerConnection(options: ServerConnectionOptions): ServerConnection {
  const { subscribeUrl, handlers, logger, onError } = options;
  let socket: SocketLike | null = null;
  let epoch = 0;
  let attempt = 0;
  let ready = false;
  let stopped = true;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let readyTimer: ReturnType<typeof setTimeout> | undefined;
  // Report a failure once per outage, not once per retry.
  let outageReported = false;
  /** Cancels the open socket's token renewal. */
  let cancelRenewal = (): void => {};
  /** An in-band renewal was sent: its `ready` (or 401 error) is an answer, not a new session. */
  let renewalPending = false;

  const clearTimers = (): void => {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    if (readyTimer !== undefined) clearTimeout(readyTimer);
    retryTimer = undefined;
    readyTimer = undefined;
  };

  const fail = (error: PersistenceError, status: 'offline' | 'error'): void => {
    if (!outageReported || status === 'error') onError(error);
    outageReported = true;
    handlers.onStatus(status);
  };

  const scheduleReconnect = (): void => {
    if (stopped || retryTimer !== undefined) return;
    const delay = backoffDelay(attempt, options.backoff);
    attempt += 1;
    logger.debug('server.reconnect_scheduled', { delayMs: delay, attempt });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
  };

  const dropSocket = (): void => {
    cancelRenewal();
    const current = socket;
    socket = null;
    ready = false;
    if (current && current.readyState <= OPEN) {
      try {
        current.close(1000, 'client closing');
      } catch (error) {
        logger.debug('server.close_failed', { error: String(error) });
      }
    }
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const myEpoch = ++epoch;
    handlers.onStatus('connecting');
    let token: string;
    try {
      token = await options.getToken();
      if (typeof token !== 'string' || token.length === 0) throw new Error('empty token');
    } catch (error) {
      if (myEpoch !== epoch) return;
      fail(new TokenError(error), 'error');
      scheduleReconnect();
      return;
    }
    if (myEpoch !== epoch || stopped) return;

    let ws: SocketLike;
    try {
      ws = options.createSocket(subscribeUrl);
    } catch (error) {
      fail(
        new ServerUnreachableError(subscribeUrl, undefined, 'cannot open socket', { cause: error }),
        'offline',
      );
      scheduleReconnect();
      return;
    }
    socket = ws;
    const current = (): boolean => myEpoch === epoch && socket === ws;

    readyTimer = setTimeout(() => {
      readyTimer = undefined;
      if (!current() || ready) return;
      logger.warn('server.ready_timeout', { timeoutMs: options.readyTimeoutMs });
      dropSocket();
      fail(
        new ServerUnreachableError(subscribeUrl, undefined, 'no ready message in time'),
        'offline',
      );
      scheduleReconnect();
    }, options.readyTimeoutMs);

    ws.addEventListener('open', () => {
      if (current()) ws.send(JSON.stringify({ type: 'auth', token } satisfies ClientMessage));
    });
    // Without an error listener the `ws` package throws; the close event that follows
    // carries what we act on.
    ws.addEventListener('error', () => {
      logger.debug('server.socket_error', { url: subscribeUrl });
    });
    ws.addEventListener('close', (event) => {
      if (!current()) return;
      const wasReady = ready;
      cancelRenewal();
      renewalPending = false;
      socket = null;
      ready = false;
      if (readyTimer !== undefined) clearTimeout(readyTimer);
      readyTimer = undefined;
      if (stopped) return;
      logger.debug('server.closed', { code: event.code, reason: event.reason, wasReady });
      if (event.code === STALLED_CLOSE_CODE && wasReady) {
        // Not an outage: this client fell behind. Reconnecting at once gets it the newest
        // state; the backoff stays for failures (a socket that never got ready).
        logger.warn('server.stalled_reconnect', { reason: event.reason });
        attempt = 0;
        void connect();
        return;
      }
      if (event.code === AUTH_FAILED_CLOSE_CODE) {
        fail(
          new ServerRejectedError(401, 'unauthorized', event.reason || 'token rejected'),
          'error',
        );
      } else {
        fail(
          new ServerUnreachableError(subscribeUrl, event.code, event.reason || 'socket closed'),
          'offline',
        );
      }
      scheduleReconnect();
    });
    ws.addEventListener('message', (event) => {
      if (!current()) return;
      const message = parseMessage(event.data);
      if (!message) {
        onError(
          new InvalidPersistedStateError('server message', '(root)', 'not a known server message'),
        );
        return;
      }
      if (renewalPending && (message.type === 'ready' || isAuthError(message))) {
        // The answer to a renewal: the subscription goes on, nothing to resync.
        renewalPending = false;
        if (message.type === 'error')
          logger.warn('server.token_renewal_refused', { message: message.message });
        return;
      }
      if (message.type === 'ready') {
        if (!ready) {
          cancelRenewal();
          cancelRenewal = scheduleTokenRenewal(token, {
            getToken: options.getToken,
            logger,
            sendAuth: (next) => {
              if (!current() || ws.readyState !== OPEN) return false;
              renewalPending = true;
              ws.send(JSON.stringify({ type: 'auth', token: next } satisfies ClientMessage));
              return true;
            },
          });
        }
        ready = true;
        attempt = 0;
        outageReported = false;
        if (readyTimer !== undefined) clearTimeout(readyTimer);
        readyTimer = undefined;
        handlers.onStatus('ready');
        handlers.onReady(message.revision, message.epoch, message.serverTime);
        return;
      }
      handlers.onMessage(message);
    });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      void connect();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      epoch += 1;
      cancelRenewal();
      clearTimers();
      dropSocket();
    },
    send(message) {
      if (!ready || !socket || socket.readyState !== OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    isReady: () => ready,
    reconnectNow() {
      if (stopped || ready || socket) return;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      void connect();
    },
  };
}

function isAuthError(message: IncomingServerMessage): boolean {
  return message.type === 'error' && message.id === undefined && message.status === 401;
}

function parseMessage(data: unknown): IncomingServerMessage | null {
  if (typeof data !== 'string') return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const result = serverMessageSchema.safeParse(json);
  // `state` stays unknown here: the sync layer validates it once, when it decides to apply it.
  return result.success ? result.data : null;
}
