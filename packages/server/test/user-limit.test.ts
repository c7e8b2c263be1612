// The per-user limit's own rules: the limit handed to the store call, a refusal remembered
// until the wait it named is over (per user, to the ms), the token spent before a request
// refused without a store call, and the bounded memory of refused users.
import { describe, expect, it } from 'vitest';
import { RateLimitedError, StoreUnavailableError } from '../src/errors.js';
import type { BucketRate } from '../src/rate-limit/token-buckets.js';
import {
  type LimitArgument,
  limitedBy,
  refuseAfterSpending,
  UserLimit,
} from '../src/rate-limit/user-limit.js';
import type { StateOwner } from '../src/scope.js';

const rate = { perSecond: 2, burst: 3 };
const alice = { workspaceId: 'acme', userId: 'alice' };

/** Runs one request of `owner` that its store call refuses with `waitMs`. */
async function refuse(limit: UserLimit, owner: StateOwner, waitMs: number): Promise<void> {
  const error = await limit
    .run(owner, () => Promise.reject(new RateLimitedError(waitMs)))
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(RateLimitedError);
}

function waitLeft(limit: UserLimit, owner: StateOwner): number | undefined {
  try {
    limit.check(owner);
    return undefined;
  } catch (error) {
    if (error instanceof RateLimitedError) return error.retryAfterMs;
    throw error;
  }
}

describe('limitedBy', () => {
  it('without a limit runs the operation with no limit', async () => {
    const seen: LimitArgument[] = [];
    const result = await limitedBy(undefined)(alice, async (argument) => {
      seen.push(argument);
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual([{}]);
  });

  it("hands the user's rate to the operation and remembers its refusal", async () => {
    let now = 1000;
    const user = new UserLimit(rate, () => now);
    const seen: LimitArgument[] = [];
    const result = await limitedBy(user)(alice, async (argument) => {
      seen.push(argument);
      return 7;
    });
    expect(result).toBe(7);
    expect(seen).toEqual([{ limit: rate }]);
    await expect(
      limitedBy(user)(alice, () => Promise.reject(new RateLimitedError(300))),
    ).rejects.toBeInstanceOf(RateLimitedError);
    now = 1100;
    expect(waitLeft(user, alice)).toBe(200);
  });
});

describe('UserLimit', () => {
  it('refuses the user until the wait named is over, to the ms', async () => {
    let now = 5000;
    const user = new UserLimit(rate, () => now);
    expect(user.rate).toBe(rate);
    expect(waitLeft(user, alice)).toBeUndefined();
    await refuse(user, alice, 250);
    expect(waitLeft(user, alice)).toBe(250);
    now = 5249;
    expect(waitLeft(user, alice)).toBe(1);
    now = 5250;
    expect(waitLeft(user, alice)).toBeUndefined();
    // Forgotten once over: a clock set back does not bring the refusal back.
    now = 5000;
    expect(waitLeft(user, alice)).toBeUndefined();
  });

  it('refuses only the user refused, by workspace and user', async () => {
    const user = new UserLimit(rate, () => 0);
    await refuse(user, alice, 1000);
    expect(waitLeft(user, { workspaceId: 'acme', userId: 'bob' })).toBeUndefined();
    expect(waitLeft(user, { workspaceId: 'other', userId: 'alice' })).toBeUndefined();
    expect(waitLeft(user, alice)).toBe(1000);
  });

  it('remembers only rate-limit refusals, and passes every failure on', async () => {
    const user = new UserLimit(rate, () => 0);
    const down = Object.assign(new StoreUnavailableError('redis away'), { retryAfterMs: 900 });
    await expect(user.run(alice, () => Promise.reject(down))).rejects.toBe(down);
    expect(waitLeft(user, alice)).toBeUndefined();
    await expect(user.run(alice, async () => 'ok')).resolves.toBe('ok');
  });

  it('refuses options that could never admit a request', () => {
    expect(() => new UserLimit({ perSecond: 0, burst: 1 })).toThrow(RangeError);
  });

  /** Refuses `count` users of workspace `w` for `waitMs` each, all at once. */
  function refuseMany(user: UserLimit, count: number, waitMs: number): Promise<unknown> {
    const refusal = new RateLimitedError(waitMs);
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        user.run(owner(i), () => Promise.reject(refusal)).catch(() => {}),
      ),
    );
  }
  const owner = (i: number) => ({ workspaceId: 'w', userId: `u${i}` });

  it('at 100 000 refused users, none expired, forgets them all to remember a new one', async () => {
    const user = new UserLimit(rate, () => 0);
    await refuseMany(user, 100_000, 60_000);
    expect(waitLeft(user, owner(99_999))).toBe(60_000);
    await refuse(user, alice, 500);
    expect(waitLeft(user, owner(0))).toBeUndefined();
    expect(waitLeft(user, owner(99_999))).toBeUndefined();
    expect(waitLeft(user, alice)).toBe(500);
  });

  it('at 100 000 refused users forgets the expired ones first', async () => {
    let now = 0;
    const user = new UserLimit(rate, () => now);
    // 99 999 users refused for a minute, one whose refusal ends exactly at 1000.
    await refuseMany(user, 99_999, 60_000);
    await refuse(user, { workspaceId: 'w', userId: 'short' }, 1000);
    now = 1000;
    await refuse(user, alice, 500);
    // The expired one made room: the others are still refused.
    expect(waitLeft(user, owner(0))).toBe(59_000);
    expect(waitLeft(user, owner(99_998))).toBe(59_000);
    expect(waitLeft(user, alice)).toBe(500);
  });
});

describe('refuseAfterSpending', () => {
  function spender() {
    const spent: Array<{ owner: StateOwner; limit: BucketRate }> = [];
    return {
      spent,
      spendToken: async () => {
        throw new Error('spendToken is for a request that reaches no store call');
      },
      spendRefused: async (owner: StateOwner, limit: BucketRate) => {
        spent.push({ owner, limit });
      },
    };
  }

  it("spends the user's token, then throws the refusal", async () => {
    const s = spender();
    const refusal = new Error('body too large');
    await expect(refuseAfterSpending(s, alice, { limit: rate }, refusal)).rejects.toBe(refusal);
    expect(s.spent).toEqual([{ owner: alice, limit: rate }]);
  });

  it('spends nothing when limits are off', async () => {
    const s = spender();
    const refusal = new Error('body too large');
    await expect(refuseAfterSpending(s, alice, {}, refusal)).rejects.toBe(refusal);
    expect(s.spent).toEqual([]);
  });

  it('answers the rate limit instead when the bucket is empty', async () => {
    const limited = new RateLimitedError(120);
    const s = {
      ...spender(),
      spendRefused: async () => {
        throw limited;
      },
    };
    await expect(
      refuseAfterSpending(s, alice, { limit: rate }, new Error('body too large')),
    ).rejects.toBe(limited);
  });
});
