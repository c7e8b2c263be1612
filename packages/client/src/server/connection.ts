// The WebSocket to `/api/dashboard/state/subscribe`: connect, authenticate with the
// first message (a fresh token from `getToken` on every connect), wait for `ready`,
// hand over parsed messages, and reconnect with backoff and jitter when the socket
// drops. A socket the server closed as stalled (4408: it drained nothing for a long time,
// so it missed changes) reconnects at once, without backoff; the `ready` that follows
// makes the sync layer resync.
//
// Where the connection is lives in one `ConnectionPhase` (below), changed only by
// `enter()`, which releases what the phase left held (its timer, its token renewal).
// A generation counter makes callbacks of a replaced socket, or of a token asked for by
// an attempt given up since, harmless.
import type { ClientMessage } from '@hyvve/schema';
import {
  InvalidPersistedStateError,
  type PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
  TokenError,
} from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { type BackoffOptions, backoffDelay } from '../timing/backoff.js';
import {
  AUTH_FAILED_CLOSE_CODE,
  checkedToken,
  type GetToken,
  type IncomingServerMessage,
  isAuthError,
  parseMessage,
  SOCKET_OPEN,
  type SocketFactory,
  type SocketLike,
  STALLED_CLOSE_CODE,
} from './socket.js';
import { scheduleTokenRenewal } from './token-renewal.js';

export type ConnectionStatus = 'connecting' | 'ready' | 'offline' | 'error';

type Timer = ReturnType<typeof setTimeout>;

/** Where the connection is. Each phase holds exactly what is alive in it. */
export type ConnectionPhase =
  /** Not started, or stopped. */
  | { kind: 'stopped' }
  /** Waiting out the backoff before the next attempt. */
  | { kind: 'backing-off'; retryTimer: Timer }
  /** No socket: the last one closed or failed; a retry (at once or backed off) follows. */
  | { kind: 'closed' }
  /** Asking `getToken` for this attempt's token. */
  | { kind: 'fetching-token' }
  /** Socket opened (or opening), auth sent on open, waiting for `ready`. */
  | { kind: 'authenticating'; socket: SocketLike; readyTimer: Timer }
  /**
   * Authenticated and subscribed. `renewalPending`: an in-band renewal was sent, so the
   * next `ready` (or 401 error) is its answer, not a new session.
   */
  | { kind: 'ready'; socket: SocketLike; cancelRenewal: () => void; renewalPending: boolean };

export interface ConnectionHandlers {
  /**
   * `epoch`: the server's store incarnation, when the server names one; `serverTime`: the
   * server's clock when it sent `ready`, when it says.
   */
  onReady(revision: number, epoch: string | undefined, serverTime: number | undefined): void;
  /** Every message but `ready` (an unauthenticated socket may get an error first). */
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

/** Releases what `phase` holds; closes its socket when asked and still open. */
function release(phase: ConnectionPhase, closeSocket: boolean, logger: PersistenceLogger): void {
  if (phase.kind === 'backing-off') clearTimeout(phase.retryTimer);
  if (phase.kind === 'authenticating') clearTimeout(phase.readyTimer);
  if (phase.kind === 'ready') phase.cancelRenewal();
  if (!closeSocket || !('socket' in phase) || phase.socket.readyState > SOCKET_OPEN) return;
  try {
    phase.socket.close(1000, 'client closing');
  } catch (error) {
    logger.debug('server.close_failed', { error: String(error) });
  }
}

export function createServerConnection(options: ServerConnectionOptions): ServerConnection {
  const { subscribeUrl, handlers, logger, onError } = options;
  let phase: ConnectionPhase = { kind: 'stopped' };
  /** Bumped by every attempt and by stop: callbacks of an older one are ignored. */
  let generation = 0;
  /** Failed attempts since the last `ready`: the backoff's exponent. */
  let attempt = 0;
  // Report a failure once per outage, not once per retry.
  let outageReported = false;

  /** Leaves the current phase (releasing what it holds) for `next`. */
  const enter = (next: ConnectionPhase, closeSocket = true): void => {
    release(phase, closeSocket, logger);
    phase = next;
  };

  /** Whether `ws` is the socket of the live attempt `gen`. */
  const owns = (gen: number, ws: SocketLike): boolean =>
    gen === generation && 'socket' in phase && phase.socket === ws;

  const fail = (error: PersistenceError, status: 'offline' | 'error'): void => {
    if (!outageReported || status === 'error') onError(error);
    outageReported = true;
    handlers.onStatus(status);
  };

  const scheduleReconnect = (): void => {
    if (phase.kind === 'stopped' || phase.kind === 'backing-off') return;
    const delay = backoffDelay(attempt, options.backoff);
    attempt += 1;
    logger.debug('server.reconnect_scheduled', { delayMs: delay, attempt });
    const retryTimer = setTimeout(() => {
      if (phase.kind !== 'backing-off' || phase.retryTimer !== retryTimer) return;
      void connect();
    }, delay);
    enter({ kind: 'backing-off', retryTimer });
  };

  const connect = async (): Promise<void> => {
    if (phase.kind === 'stopped') return;
    const gen = ++generation;
    enter({ kind: 'fetching-token' });
    handlers.onStatus('connecting');
    let token: string;
    try {
      token = checkedToken(await options.getToken());
    } catch (error) {
      if (gen !== generation) return;
      fail(new TokenError(error), 'error');
      scheduleReconnect();
      return;
    }
    // `stop` bumps the generation: an attempt it gave up on ends here.
    if (gen !== generation) return;

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
    const readyTimer = setTimeout(() => {
      if (!owns(gen, ws) || phase.kind !== 'authenticating') return;
      logger.warn('server.ready_timeout', { timeoutMs: options.readyTimeoutMs });
      enter({ kind: 'closed' });
      fail(
        new ServerUnreachableError(subscribeUrl, undefined, 'no ready message in time'),
        'offline',
      );
      scheduleReconnect();
    }, options.readyTimeoutMs);
    enter({ kind: 'authenticating', socket: ws, readyTimer });

    ws.addEventListener('open', () => {
      if (owns(gen, ws)) ws.send(JSON.stringify({ type: 'auth', token } satisfies ClientMessage));
    });
    // Without an error listener the `ws` package throws; the close event that follows
    // carries what we act on.
    ws.addEventListener('error', () => {
      logger.debug('server.socket_error', { url: subscribeUrl });
    });
    ws.addEventListener('close', (event) => {
      if (!owns(gen, ws)) return;
      const wasReady = phase.kind === 'ready';
      // The socket is closed already; `connect` or `scheduleReconnect` moves on from here.
      enter({ kind: 'closed' }, false);
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
      if (!owns(gen, ws)) return;
      const message = parseMessage(event.data);
      if (!message) {
        onError(
          new InvalidPersistedStateError('server message', '(root)', 'not a known server message'),
        );
        return;
      }
      if (
        phase.kind === 'ready' &&
        phase.renewalPending &&
        (message.type === 'ready' || isAuthError(message))
      ) {
        // The answer to a renewal: the subscription goes on, nothing to resync.
        phase.renewalPending = false;
        if (message.type === 'error')
          logger.warn('server.token_renewal_refused', { message: message.message });
        return;
      }
      if (message.type !== 'ready') {
        handlers.onMessage(message);
        return;
      }
      if (phase.kind !== 'ready') {
        const cancelRenewal = scheduleTokenRenewal(token, {
          getToken: options.getToken,
          logger,
          sendAuth: (next) => {
            if (!owns(gen, ws) || phase.kind !== 'ready' || ws.readyState !== SOCKET_OPEN) {
              return false;
            }
            phase.renewalPending = true;
            ws.send(JSON.stringify({ type: 'auth', token: next } satisfies ClientMessage));
            return true;
          },
        });
        // The same socket goes on: release only the ready timer.
        enter({ kind: 'ready', socket: ws, cancelRenewal, renewalPending: false }, false);
      }
      attempt = 0;
      outageReported = false;
      handlers.onStatus('ready');
      handlers.onReady(message.revision, message.epoch, message.serverTime);
    });
  };

  return {
    start() {
      if (phase.kind !== 'stopped') return;
      phase = { kind: 'fetching-token' };
      void connect();
    },
    stop() {
      if (phase.kind === 'stopped') return;
      generation += 1;
      enter({ kind: 'stopped' });
    },
    send(message) {
      if (phase.kind !== 'ready' || phase.socket.readyState !== SOCKET_OPEN) return false;
      phase.socket.send(JSON.stringify(message));
      return true;
    },
    isReady: () => phase.kind === 'ready',
    reconnectNow() {
      // Only between sockets: while backing off, or while a token is being fetched.
      if (phase.kind !== 'backing-off' && phase.kind !== 'fetching-token') return;
      void connect();
    },
  };
}
