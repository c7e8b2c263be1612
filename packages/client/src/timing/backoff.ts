// Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random),
// so a server restart does not see every client reconnect in the same millisecond and
// no client retries in a tight loop.
// Not a retry library (p-retry, exponential-backoff): they drive a promise-returning
// attempt loop, while reconnects here are scheduled from socket events (close, 4408,
// online) by the connection unit; the formula is all that would be shared.

export interface BackoffOptions {
  /** First delay. @default 250 */
  initialDelayMs?: number;
  /** Cap. @default 30000 */
  maxDelayMs?: number;
  /** Random source in [0, 1), injectable for tests. @default Math.random */
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialDelayMs = 250, maxDelayMs = 30_000, random = Math.random } = options;
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
