// The token-bucket rule's arithmetic, pinned with exact figures: the refill, the wait a
// refusal names, the spend at exactly one token, how long an idle bucket lives, the
// options refused, and which buckets an instance at its key limit forgets.
import { describe, expect, it } from 'vitest';
import {
  BucketMap,
  bucketLifetimeMs,
  checkRate,
  refill,
  spendToken,
  TokenBucketLimiter,
  waitFor,
} from '../src/rate-limit/token-buckets.js';
import { refusalOf } from './support/refusal.js';

const rate = { perSecond: 4, burst: 10 };

describe('refill', () => {
  it('starts a missing bucket full', () => {
    expect(refill(undefined, 5000, rate)).toBe(10);
  });

  it('adds perSecond tokens a second since the last spend', () => {
    // 1.5 s at 4/s: 6 tokens on top of 2.
    expect(refill({ tokens: 2, at: 1000 }, 2500, rate)).toBe(8);
    expect(refill({ tokens: 0.5, at: 1000 }, 1125, rate)).toBe(1);
  });

  it('stops at the burst', () => {
    expect(refill({ tokens: 2, at: 1000 }, 10_000, rate)).toBe(10);
  });

  it('adds nothing when the clock went back', () => {
    expect(refill({ tokens: 3, at: 5000 }, 4000, rate)).toBe(3);
  });
});

describe('waitFor', () => {
  it('is 0 with one token or more', () => {
    expect(waitFor(1, rate)).toBe(0);
    expect(waitFor(2.5, rate)).toBe(0);
  });

  it('names the ms until one token, rounded up', () => {
    expect(waitFor(0, rate)).toBe(250);
    // 0.9 tokens missing at 4/s: 225 ms.
    expect(waitFor(0.1, rate)).toBe(225);
    // 1/3 of a token at 1/s is 333.3… ms: 334.
    expect(waitFor(2 / 3, { perSecond: 1, burst: 1 })).toBe(334);
    // Below zero (credit charged): the debt is waited out too.
    expect(waitFor(-1, rate)).toBe(500);
  });
});

describe('spendToken', () => {
  it('spends a token when exactly one is there', () => {
    expect(spendToken({ tokens: 1, at: 0 }, 0, rate)).toEqual({
      bucket: { tokens: 0, at: 0 },
      waitMs: 0,
    });
  });

  it('spends from the refilled bucket and stamps it with now', () => {
    expect(spendToken({ tokens: 0, at: 1000 }, 1500, rate)).toEqual({
      bucket: { tokens: 1, at: 1500 },
      waitMs: 0,
    });
    expect(spendToken(undefined, 700, rate)).toEqual({
      bucket: { tokens: 9, at: 700 },
      waitMs: 0,
    });
  });

  it('below one token spends nothing, keeps the refill and names the wait', () => {
    expect(spendToken({ tokens: 0.25, at: 1000 }, 1125, rate)).toEqual({
      bucket: { tokens: 0.75, at: 1125 },
      waitMs: 63,
    });
  });
});

describe('bucketLifetimeMs', () => {
  it('keeps an idle bucket until it is full again plus a second, a minute at least', () => {
    expect(bucketLifetimeMs({ perSecond: 1, burst: 100 })).toBe(101_000);
    // 200 tokens at 3/s: 66 666.7 ms, rounded up.
    expect(bucketLifetimeMs({ perSecond: 3, burst: 200 })).toBe(67_667);
    expect(bucketLifetimeMs({ perSecond: 20, burst: 40 })).toBe(60_000);
  });
});

describe('checkRate', () => {
  it('accepts any positive rate and a burst of one', () => {
    expect(() => checkRate({ perSecond: 0.01, burst: 1 })).not.toThrow();
  });

  it.each([
    { perSecond: 0, burst: 1 },
    { perSecond: -1, burst: 5 },
    { perSecond: Number.NaN, burst: 5 },
    { perSecond: 1, burst: 0.5 },
    { perSecond: 1, burst: Number.NaN },
  ])('refuses %o, naming the rule', (bad) => {
    expect(() => checkRate(bad)).toThrow(
      new RangeError('rate limit needs savesPerSecond > 0 and burst >= 1'),
    );
  });
});

describe('BucketMap', () => {
  it('refuses with the wait and stores the refilled bucket unspent', () => {
    let now = 0;
    const buckets = new BucketMap(() => now);
    const one = { perSecond: 2, burst: 1 };
    buckets.take('a', one);
    now = 100;
    expect(refusalOf(() => buckets.take('a', one)).retryAfterMs).toBe(400);
    expect(buckets.get('a')).toEqual({ tokens: 0.2, at: 100 });
  });

  it('at its key limit forgets the full buckets, and keeps the busy ones', () => {
    let now = 0;
    const buckets = new BucketMap(() => now, 2);
    const one = { perSecond: 1, burst: 1 };
    buckets.take('busy', one);
    now = 1000;
    buckets.take('idle', one);
    buckets.take('busy', one);
    // At 2000 'idle' is exactly full again; 'busy' is spent once more, so it is not.
    now = 2000;
    buckets.take('busy', one);
    buckets.take('new', one);
    expect(buckets.get('idle')).toBeUndefined();
    expect(buckets.get('busy')).toEqual({ tokens: 0, at: 2000 });
    expect(buckets.size).toBe(2);
  });

  it('forgets the oldest when every bucket is busy, only to add a new key', () => {
    const buckets = new BucketMap(() => 0, 2);
    const one = { perSecond: 1, burst: 1 };
    buckets.take('a', one);
    buckets.take('b', one);
    // A known key at the limit drops nothing: 'a' is still empty.
    expect(refusalOf(() => buckets.take('a', one)).retryAfterMs).toBe(1000);
    expect(buckets.size).toBe(2);
    buckets.take('c', one);
    expect(buckets.size).toBe(2);
    expect(buckets.get('a')).toBeUndefined();
    expect(buckets.get('b')).toEqual({ tokens: 0, at: 0 });
  });
});

describe('TokenBucketLimiter', () => {
  it('limits each key at savesPerSecond and burst', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ savesPerSecond: 4, burst: 2 }, () => now);
    limiter.take('k');
    limiter.take('k');
    expect(refusalOf(() => limiter.take('k')).retryAfterMs).toBe(250);
    now = 250;
    expect(() => limiter.take('k')).not.toThrow();
    expect(limiter.trackedUsers).toBe(1);
  });

  it('refuses options that could never admit a request', () => {
    expect(() => new TokenBucketLimiter({ savesPerSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});
