// In-process token buckets by key, the memory backend of the request limits (see
// rate-limit/request-limiter.ts). One instance limits what reaches it; with Redis the
// buckets live in Redis instead, shared by every instance.
import { RateLimitedError } from '../errors.js';
import type { RateLimitOptions } from '../options.js';

export type { RateLimitOptions } from '../options.js';
export { DEFAULT_RATE_LIMIT } from '../options.js';

/** Tokens per second and bucket size of one kind of bucket. */
export interface BucketRate {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A bucket backend: spends one token of `key`, or throws/rejects RateLimitedError. */
export interface TokenBuckets {
  take(key: string): void | Promise<void>;
}

/**
 * Token buckets by key (a user, an IP): each key may spend `savesPerSecond` requests a
 * second on average and `burst` at once, whatever the request is.
 */
export class TokenBucketLimiter implements TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
    /** Users tracked before idle (full) buckets are dropped. */
    private readonly maxUsers = 100_000,
  ) {
    if (!(options.savesPerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError('rate limit needs savesPerSecond > 0 and burst >= 1');
    }
  }

  /** Spends one request of `user` (or any key); throws RateLimitedError (with retryAfterMs) when none is left. */
  take(user: string): void {
    const now = this.now();
    const bucket = this.buckets.get(user);
    if (!bucket) {
      if (this.buckets.size >= this.maxUsers) this.dropIdle(now);
      this.buckets.set(user, { tokens: this.options.burst - 1, updatedAt: now });
      return;
    }
    const tokens = this.refilled(bucket, now);
    if (tokens < 1) {
      bucket.tokens = tokens;
      bucket.updatedAt = now;
      throw new RateLimitedError(Math.ceil(((1 - tokens) / this.options.savesPerSecond) * 1000));
    }
    bucket.tokens = tokens - 1;
    bucket.updatedAt = now;
  }

  get trackedUsers(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    return Math.min(this.options.burst, bucket.tokens + elapsed * this.options.savesPerSecond);
  }

  private dropIdle(now: number): void {
    for (const [user, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.options.burst) this.buckets.delete(user);
    }
    // Everyone is busy: forget the oldest rather than grow without bound.
    if (this.buckets.size >= this.maxUsers) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}

/** @deprecated The buckets limit every request, not only saves: use `TokenBucketLimiter`. */
export class SaveRateLimiter extends TokenBucketLimiter {}
