import { describe, expect, it } from 'vitest';
import { RateLimitedError, SaveRateLimiter } from '../src/index.js';

describe('SaveRateLimiter', () => {
  it('lets a burst through, then refuses with the wait until the next token', () => {
    let now = 0;
    const limiter = new SaveRateLimiter({ savesPerSecond: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) limiter.take('alice');
    let error: unknown;
    try {
      limiter.take('alice');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(500);
    now += 500;
    expect(() => limiter.take('alice')).not.toThrow();
  });

  it('counts each user separately', () => {
    const limiter = new SaveRateLimiter({ savesPerSecond: 1, burst: 1 }, () => 0);
    limiter.take('alice');
    expect(() => limiter.take('bob')).not.toThrow();
    expect(() => limiter.take('alice')).toThrow(RateLimitedError);
  });

  it('refills up to the burst only', () => {
    let now = 0;
    const limiter = new SaveRateLimiter({ savesPerSecond: 10, burst: 2 }, () => now);
    limiter.take('alice');
    now += 60_000;
    limiter.take('alice');
    limiter.take('alice');
    expect(() => limiter.take('alice')).toThrow(RateLimitedError);
  });

  it('forgets idle users instead of growing without bound', () => {
    let now = 0;
    const limiter = new SaveRateLimiter({ savesPerSecond: 1, burst: 1 }, () => now, 2);
    limiter.take('a');
    limiter.take('b');
    now += 5000;
    limiter.take('c');
    expect(limiter.trackedUsers).toBe(1);
    limiter.take('d');
    limiter.take('e');
    expect(limiter.trackedUsers).toBe(2);
  });

  it('refuses a configuration that could never allow a save', () => {
    expect(() => new SaveRateLimiter({ savesPerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new SaveRateLimiter({ savesPerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
