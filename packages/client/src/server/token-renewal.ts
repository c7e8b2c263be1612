// Keeps an open socket's token fresh: before the token's `exp` it asks `getToken` for a
// new one and sends it in-band (`{ type: 'auth', token }`), so the server keeps the
// socket (and its subscription) instead of closing it with 4401 at expiry. The token is
// read, never verified: the server does that.

import { tokenClaims } from '../content/owner.js';
import type { PersistenceLogger } from '../logger.js';
import { checkedToken, type GetToken } from './socket.js';

/** Renew this long before `exp` (or at 80 % of a shorter remaining life). @default 60000 */
export const DEFAULT_RENEW_BEFORE_MS = 60_000;
/** Never renew more often than this, whatever `exp` says. */
const MIN_DELAY_MS = 1_000;

/** `exp` of a JWT in ms since epoch; undefined when it has none or is not a JWT. */
export function tokenExpiry(token: string): number | undefined {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

export function renewalDelay(expiresAt: number, now: number, renewBeforeMs: number): number {
  const left = expiresAt - now;
  const delay = left > renewBeforeMs * 1.25 ? left - renewBeforeMs : left * 0.8;
  return Math.max(MIN_DELAY_MS, Math.floor(delay));
}

export interface TokenRenewalOptions {
  getToken: GetToken;
  /** Sends the new token on the socket; false when the socket is gone. */
  sendAuth(token: string): boolean;
  logger: PersistenceLogger;
  renewBeforeMs?: number;
  now?: () => number;
}

/** Renews the socket's token from `token` on; returns the cancel for when the socket goes. */
export function scheduleTokenRenewal(token: string, options: TokenRenewalOptions): () => void {
  const now = options.now ?? Date.now;
  const renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;

  const arm = (current: string): void => {
    const expiresAt = tokenExpiry(current);
    if (expiresAt === undefined || cancelled) return;
    timer = setTimeout(() => void renew(), renewalDelay(expiresAt, now(), renewBeforeMs));
  };

  const renew = async (): Promise<void> => {
    timer = undefined;
    let next: string;
    try {
      next = checkedToken(await options.getToken());
    } catch (error) {
      // The socket closes at expiry (4401) and the reconnect asks getToken again.
      options.logger.warn('server.token_renewal_failed', { error: String(error) });
      return;
    }
    if (cancelled) return;
    if (!options.sendAuth(next)) return;
    options.logger.debug('server.token_renewed', { expiresAt: tokenExpiry(next) });
    arm(next);
  };

  arm(token);
  return () => {
    cancelled = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
