// The per-user limit of one instance's requests. Its tokens are spent by the store in the
// same call as the request's own operation (the save, read or delete script on Redis,
// `spendToken` alone for a request that reaches no store call), so a request costs one
// command. A refusal names the wait until the bucket holds a token again; until then the
// bucket cannot have one (it refills at a fixed rate, other instances only spend), so
// this instance refuses the user at once, before reading a body or calling Redis.
import { RateLimitedError } from '../errors.js';
import type { StateOwner } from '../scope.js';
import { type BucketRate, checkRate } from './token-buckets.js';

/** The user's limit as a store call takes it: `{ limit }`, or `{}` when limits are off. */
export interface LimitArgument {
  limit?: BucketRate;
}

/** Runs a user's request with the limit its store call spends (see `limitedBy`). */
export type Limited = <T>(
  owner: StateOwner,
  operation: (limit: LimitArgument) => Promise<T>,
) => Promise<T>;

/** `operation` gets `{ limit }` to pass to its store call; refusals are remembered by `user`. */
export function limitedBy(user: UserLimit | undefined): Limited {
  if (user === undefined) return (_owner, operation) => operation({});
  return (owner, operation) => user.run(owner, (rate) => operation({ limit: rate }));
}

/** What spends a token alone: the service (`spendToken`; `spendRefused` for a refused request). */
export interface RefusedSpender {
  spendToken(owner: StateOwner, limit: BucketRate): Promise<void>;
  spendRefused(owner: StateOwner, limit: BucketRate): Promise<void>;
}

/**
 * The answer to a request refused before any store call (`error`): the user's token is
 * spent alone first (one command; an empty bucket makes it a RateLimitedError instead).
 */
export async function refuseAfterSpending(
  spender: RefusedSpender,
  owner: StateOwner,
  { limit }: LimitArgument,
  error: unknown,
): Promise<never> {
  if (limit !== undefined) await spender.spendRefused(owner, limit);
  throw error;
}

/** Users remembered as refused before the expired entries are swept. */
const MAX_REFUSED = 100_000;

function userKey(owner: StateOwner): string {
  return `${owner.workspaceId}:${owner.userId}`;
}

export class UserLimit {
  /** ms (this instance's clock) until which a user's bucket is known to be empty. */
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    readonly rate: BucketRate,
    private readonly now: () => number = Date.now,
  ) {
    checkRate(rate);
  }

  /** Throws RateLimitedError (the wait left) while the user's bucket is known to be empty. */
  check(owner: StateOwner): void {
    if (this.refusedUntil.size === 0) return;
    const key = userKey(owner);
    const until = this.refusedUntil.get(key);
    if (until === undefined) return;
    const left = until - this.now();
    if (left > 0) throw new RateLimitedError(left);
    this.refusedUntil.delete(key);
  }

  /** Runs `operation` with the rate it spends; a refusal is remembered for `check`. */
  run<T>(owner: StateOwner, operation: (rate: BucketRate) => Promise<T>): Promise<T> {
    return operation(this.rate).catch((error: unknown) => {
      if (error instanceof RateLimitedError) this.refused(owner, error.retryAfterMs);
      throw error;
    });
  }

  private refused(owner: StateOwner, waitMs: number): void {
    const now = this.now();
    if (this.refusedUntil.size >= MAX_REFUSED) {
      for (const [key, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(key);
      if (this.refusedUntil.size >= MAX_REFUSED) this.refusedUntil.clear();
    }
    this.refusedUntil.set(userKey(owner), now + waitMs);
  }
}
