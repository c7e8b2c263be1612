// The token bucket rule, once: `spendTokens` is the rule every limit follows. The memory
// store and the per-instance IP buckets run it here; the Redis scripts run its Lua twin
// (bucket-lua.ts), written to do the same double arithmetic in the same order, so both
// stores admit and refuse alike (test/token-bucket-twin.test.ts holds them to it).
import { RateLimitedError } from '../errors.js';
import type { RateLimitOptions } from '../options.js';

export type { RateLimitOptions } from '../options.js';
export { DEFAULT_RATE_LIMIT } from '../options.js';

/** Tokens per second and bucket size of one kind of bucket. */
export interface BucketRate {
  perSecond: number;
  burst: number;
}

/** A bucket as stored: its tokens after the last spend, and when that was (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

export interface Spent {
  /** The bucket after this call (refilled, and spent when admitted). */
  bucket: Bucket;
  /** 0 when `count` tokens were spent, else ms until one token is there (nothing spent). */
  waitMs: number;
}

/** Refills `bucket` (a missing one is full) to `now`, at most to `burst`. */
export function refill(bucket: Bucket | undefined, now: number, rate: BucketRate): number {
  if (bucket === undefined) return rate.burst;
  return Math.min(
    rate.burst,
    bucket.tokens + (Math.max(0, now - bucket.at) * rate.perSecond) / 1000,
  );
}

/** ms until a bucket holding `tokens` has one again. */
export function waitFor(tokens: number, rate: BucketRate): number {
  return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / rate.perSecond);
}

/**
 * The rule: refill to `now`, then spend one token when there is one; else spend nothing
 * and say how long until there is one.
 */
export function spendToken(bucket: Bucket | undefined, now: number, rate: BucketRate): Spent {
  const tokens = refill(bucket, now, rate);
  if (tokens < 1) return { bucket: { tokens, at: now }, waitMs: waitFor(tokens, rate) };
  return { bucket: { tokens: tokens - 1, at: now }, waitMs: 0 };
}

/** How long an idle bucket is kept: until it is full again, and a minute at least. */
export function bucketLifetimeMs(rate: BucketRate): number {
  return Math.max(Math.ceil((rate.burst * 1000) / rate.perSecond) + 1000, 60_000);
}

export function checkRate(rate: BucketRate): void {
  if (!(rate.perSecond > 0) || !(rate.burst >= 1)) {
    throw new RangeError('rate limit needs savesPerSecond > 0 and burst >= 1');
  }
}

/** A bucket backend: spends one token of `key`, or throws/rejects RateLimitedError. */
export interface TokenBuckets {
  take(key: string): void | Promise<void>;
}

/** Buckets by key in this process, each spent with `spendToken`; idle (full) ones are dropped. */
export class BucketMap {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number = Date.now,
    /** Keys tracked before idle (full) buckets are dropped. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Spends one token of `key` at `rate`; throws RateLimitedError with the wait when none is left. */
  take(key: string, rate: BucketRate): void {
    const now = this.now();
    const bucket = this.buckets.get(key);
    if (bucket === undefined && this.buckets.size >= this.maxKeys) this.dropIdle(now, rate);
    const spent = spendToken(bucket, now, rate);
    this.buckets.set(key, spent.bucket);
    if (spent.waitMs > 0) throw new RateLimitedError(spent.waitMs);
  }

  /** The bucket of `key` as stored (for tests). */
  get(key: string): Bucket | undefined {
    return this.buckets.get(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private dropIdle(now: number, rate: BucketRate): void {
    for (const [key, bucket] of this.buckets) {
      if (refill(bucket, now, rate) >= rate.burst) this.buckets.delete(key);
    }
    // Everyone is busy: forget the oldest rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}

/**
 * Token buckets by key (a user, an IP): each key may spend `savesPerSecond` requests a
 * second on average and `burst` at once, whatever the request is.
 */
export class TokenBucketLimiter implements TokenBuckets {
  private readonly buckets: BucketMap;
  private readonly rate: BucketRate;

  constructor(
    options: RateLimitOptions,
    now: () => number = Date.now,
    /** Users tracked before idle (full) buckets are dropped. */
    maxUsers = 100_000,
  ) {
    this.rate = { perSecond: options.savesPerSecond, burst: options.burst };
    checkRate(this.rate);
    this.buckets = new BucketMap(now, maxUsers);
  }

  /** Spends one request of `user` (or any key); throws RateLimitedError (with retryAfterMs) when none is left. */
  take(user: string): void {
    this.buckets.take(user, this.rate);
  }

  get trackedUsers(): number {
    return this.buckets.size;
  }
}

/** @deprecated The buckets limit every request, not only saves: use `TokenBucketLimiter`. */
export class SaveRateLimiter extends TokenBucketLimiter {}
