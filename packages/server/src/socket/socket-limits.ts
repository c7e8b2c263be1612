// What a socket message spends of the limits: before auth, a token of the client IP's
// (leased, no round trip); after auth, a save, patch-save or delete spends the user's token
// in its own store call (checked here only against a refusal already known), and anything
// else (a renewal, an invalid message) spends it alone: one command.
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import type { RefusedSpender } from '../rate-limit/user-limit.js';
import type { StateOwner } from '../scope.js';
import { typeOf } from './message-text.js';
import type { SpendMessage } from './socket-message-gate.js';

const STORE_REQUESTS = new Set<unknown>(['save', 'patch-save', 'delete']);

/** A message that asks for a store call (its user token is spent there). */
export function isStoreRequest(message: unknown): boolean {
  return STORE_REQUESTS.has(typeOf(message));
}

/** The gate's spend for a socket from `ip`; undefined when limits are off. */
export function socketSpender(
  limiter: RequestLimiter | undefined,
  service: RefusedSpender,
  ip: string,
): SpendMessage | undefined {
  if (limiter === undefined) return undefined;
  const { user } = limiter;
  return (owner, message) => {
    if (owner === undefined) return limiter.ip(ip);
    if (user === undefined) return;
    user.check(owner);
    if (isStoreRequest(message)) return;
    return user.run(owner, async (rate) => {
      await service.spendToken(owner, rate);
    });
  };
}

/**
 * An invalid save or delete (its shape, not its state) reaches no store call: its user
 * token is spent alone, in the background (its answer is the 400). Other invalid
 * messages spent theirs at the gate.
 */
export function spendRefused(
  { limiter, service }: { limiter: RequestLimiter | undefined; service: RefusedSpender },
  owner: StateOwner | undefined,
  message: unknown,
): void {
  const user = limiter?.user;
  if (owner === undefined || user === undefined || !isStoreRequest(message)) return;
  user.run(owner, (rate) => service.spendRefused(owner, rate)).catch(() => {});
}

/** A refused message is counted as the save or delete it was (429), anything else as rate limited. */
export function countLimited(metrics: ServerMetrics, message: unknown): void {
  const type = typeOf(message);
  if (type === 'save' || type === 'patch-save') metrics.saveFinished('ws', 429, 0);
  else if (type === 'delete') metrics.deleteFinished('ws', 429);
  else metrics.rateLimited('ws');
}
