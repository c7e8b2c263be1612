// The wire's fixed names, shared by the server, the browser client and the CLI so that
// each is written once: the HTTP/WebSocket paths and the close codes a client acts on.

/** REST resource of the signed-in user's state (GET, POST/PUT, PATCH, DELETE). */
export const STATE_PATH = '/api/dashboard/state';
/** WebSocket endpoint: live changes and socket saves. */
export const SUBSCRIBE_PATH = `${STATE_PATH}/subscribe`;

/** WebSocket close codes a client can act on. */
export const CloseCode = {
  /** Server shutdown: reconnect (to another instance). */
  goingAway: 1001,
  /** The socket kept sending past its rate limit. */
  policyViolation: 1008,
  /** Unexpected server failure. */
  internalError: 1011,
  /** The store is unavailable: reconnect later. */
  tryAgainLater: 1013,
  /** Missing, late, invalid or expired token: get a fresh token before reconnecting. */
  unauthorized: 4401,
  /** A renewal brought a token for another user or workspace. */
  forbidden: 4403,
  /** The reader drained nothing for the stall timeout: reconnect at once and resync. */
  stalled: 4408,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
