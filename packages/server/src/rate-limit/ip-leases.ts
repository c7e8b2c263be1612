// The per-IP limit across instances without a Redis round trip per request. Redis holds
// one bucket per client IP (the token-bucket rule of token-buckets.ts, in Lua); each
// instance leases tokens from it in blocks and spends them locally. A request is admitted
// from the local lease, or, while the lease is being fetched, on a small credit that the
// next settlement charges to the Redis bucket (which may then go below zero). All IPs
// needing tokens are settled together: one EVAL per flush interval per instance, whatever
// the number of requests or IPs.
//
// Bound: every admitted request is a token taken from the Redis bucket at most `leaseMs`
// before (a lease's tokens expire then and go back), except the credit not yet charged, at
// most `credit` per IP per instance. So N instances together admit at most
// burst + rate·(t + leaseMs) + N·credit requests of one IP in any t seconds (one instance
// alone: the same with one credit).
import type { Cluster, Redis } from 'ioredis';
import { RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BUCKET_LUA } from './bucket-lua.js';
import { BucketMap, type BucketRate, checkRate } from './token-buckets.js';

/**
 * KEYS: IP buckets (one hash tag: one slot). ARGV: rate, burst, then per key: the tokens
 * to charge (credit spent; negative: unused tokens given back) and the tokens wanted.
 * Returns per key: tokens granted, ms until the bucket holds one again (0 if it does).
 */
export const IP_LEASE_LUA = `${BUCKET_LUA}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redisNow()
local out = {}
for i, key in ipairs(KEYS) do
  local tokens = math.min(burst, refillBucket(key, rate, burst, now) - tonumber(ARGV[1 + 2 * i]))
  local want = tonumber(ARGV[2 + 2 * i])
  local granted = 0
  if want > 0 and tokens >= 1 then granted = math.min(want, math.floor(tokens)) end
  tokens = tokens - granted
  storeBucket(key, tokens, now, rate, burst)
  out[#out + 1] = granted
  out[#out + 1] = bucketWait(tokens, rate)
end
return out
`;

/** `dashboard:ratelimit:ip:{ip}:<address>`: every IP bucket in one slot, settled in one EVAL. */
export function ipBucketKey(address: string): string {
  return `dashboard:ratelimit:ip:{ip}:${address}`;
}

export interface IpLeaseOptions {
  rate: BucketRate;
  /** Tokens asked for at once per IP. @default ceil(burst / 4) */
  block?: number;
  /**
   * Requests admitted per IP before Redis granted tokens, charged at the next settlement:
   * the most one instance can admit over the shared bucket. @default ceil(burst / 10)
   */
  credit?: number;
  /** Longest wait before the leases wanted are settled. @default 50 */
  flushMs?: number;
  /** Leased tokens unspent this long after they were taken go back to Redis. @default 500 */
  leaseMs?: number;
  /** An IP unseen this long is forgotten (its credit charged, its tokens given back). @default 1000 */
  idleMs?: number;
  logger: Logger;
  now?: () => number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Grant {
  tokens: number;
  /** When the settlement that took them from Redis was sent (ms): they expire `leaseMs` later. */
  at: number;
}

interface Lease {
  /** Tokens granted by Redis, not spent yet, oldest first. */
  grants: Grant[];
  /** Expired tokens to give back at the next settlement. */
  returning: number;
  /** Requests admitted on credit, not yet sent to Redis. */
  debt: number;
  /** Credit and given-back tokens sent in the settlement under way. */
  charging: number;
  givingBack: number;
  /** Redis said the bucket is empty until then (ms): refused locally. */
  refusedUntil: number;
  usedAt: number;
  wanted: boolean;
  waiters: Waiter[];
}

interface WithLease {
  hyvveIpLease(...args: (string | number)[]): Promise<number[]>;
}

/** Settlements at most this many IPs at once (the rest go in the next one). */
const MAX_BATCH = 500;

/** Leased tokens an IP holds, unexpired or not. */
function held(lease: Lease): number {
  let tokens = 0;
  for (const grant of lease.grants) tokens += grant.tokens;
  return tokens;
}

export class IpLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly block: number;
  private readonly credit: number;
  /** Below this many tokens left, the next block is asked for. */
  private readonly lowWater: number;
  private readonly flushMs: number;
  private readonly idleMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly redis: WithLease;
  /** While Redis fails: each IP limited by this instance alone (the same rule, locally). */
  private readonly fallback: BucketMap;
  private failing = false;
  private lastFailureLog = 0;
  private timer: NodeJS.Timeout | undefined;
  private settling = false;
  private closed = false;

  constructor(
    redis: Redis | Cluster,
    private readonly options: IpLeaseOptions,
  ) {
    checkRate(options.rate);
    this.block = options.block ?? Math.max(1, Math.ceil(options.rate.burst / 4));
    this.credit = options.credit ?? Math.max(1, Math.ceil(options.rate.burst / 10));
    this.flushMs = options.flushMs ?? 50;
    this.lowWater = this.block / 2;
    this.idleMs = options.idleMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 500;
    this.now = options.now ?? Date.now;
    this.fallback = new BucketMap(this.now);
    if (!('hyvveIpLease' in redis)) redis.defineCommand('hyvveIpLease', { lua: IP_LEASE_LUA });
    this.redis = redis as unknown as WithLease;
  }

  /** Spends one request of `address`: admitted (returns), refused (throws), or waits for a lease. */
  take(address: string): void | Promise<void> {
    if (this.failing) {
      this.fallback.take(address, this.options.rate);
      return;
    }
    const now = this.now();
    let lease = this.leases.get(address);
    if (lease === undefined) {
      lease = {
        grants: [],
        returning: 0,
        debt: 0,
        charging: 0,
        givingBack: 0,
        refusedUntil: 0,
        usedAt: now,
        wanted: false,
        waiters: [],
      };
      this.leases.set(address, lease);
    }
    lease.usedAt = now;
    if (this.spendLeased(lease, now)) {
      if (!lease.wanted && held(lease) < this.lowWater) this.want(lease);
      return;
    }
    if (now < lease.refusedUntil) throw new RateLimitedError(lease.refusedUntil - now);
    this.want(lease);
    if (lease.debt + lease.charging < this.credit) {
      lease.debt += 1;
      return;
    }
    // Out of lease and credit: this request waits for the settlement under way.
    if (lease.waiters.length >= this.block) throw new RateLimitedError(this.flushMs);
    return new Promise((resolve, reject) => lease.waiters.push({ resolve, reject }));
  }

  /** Settlements sent to Redis so far (one EVAL each), for tests and the benchmark. */
  settlements = 0;

  /** False while Redis fails (each IP is then limited by this instance alone). */
  get shared(): boolean {
    return !this.failing;
  }

  /** IPs held (for tests). */
  get size(): number {
    return this.leases.size;
  }

  /** Settles what is due now (tests, shutdown) and stops the timer. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const lease of this.leases.values()) {
      for (const waiter of lease.waiters.splice(0)) waiter.reject(new RateLimitedError(1000));
    }
  }

  private want(lease: Lease): void {
    lease.wanted = true;
    this.schedule(this.flushMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.settle();
    }, delayMs);
    this.timer.unref();
  }

  /** Spends one leased token, if one is left that has not expired. */
  private spendLeased(lease: Lease, now: number): boolean {
    this.expire(lease, now);
    const oldest = lease.grants[0];
    if (oldest === undefined) return false;
    oldest.tokens -= 1;
    if (oldest.tokens < 1) lease.grants.shift();
    return true;
  }

  /** Drops the grants older than `leaseMs`: their tokens go back at the next settlement. */
  private expire(lease: Lease, now: number): void {
    while (lease.grants.length > 0 && now - (lease.grants[0]?.at ?? now) >= this.leaseMs) {
      lease.returning += lease.grants.shift()?.tokens ?? 0;
      this.schedule(this.flushMs);
    }
  }

  private async settle(): Promise<void> {
    if (this.settling) {
      this.schedule(this.flushMs);
      return;
    }
    const now = this.now();
    const keys: string[] = [];
    const args: (string | number)[] = [this.options.rate.perSecond, this.options.rate.burst];
    const batch: Lease[] = [];
    for (const [address, lease] of this.leases) {
      if (batch.length >= MAX_BATCH) break;
      this.expire(lease, now);
      // An IP unseen for a while is forgotten (its credit charged, its tokens given back).
      const idle = now - lease.usedAt >= this.idleMs && lease.waiters.length === 0;
      if (idle) {
        this.leases.delete(address);
        for (const grant of lease.grants.splice(0)) lease.returning += grant.tokens;
      }
      const asks = lease.wanted && !idle;
      if (!asks && lease.debt === 0 && lease.returning === 0) continue;
      keys.push(ipBucketKey(address));
      args.push(lease.debt - lease.returning, asks ? this.block + lease.waiters.length : 0);
      lease.charging = lease.debt;
      lease.givingBack = lease.returning;
      lease.debt = 0;
      lease.returning = 0;
      lease.wanted = false;
      batch.push(lease);
    }
    if (batch.length === 0) return;
    this.settling = true;
    this.settlements += 1;
    try {
      const reply = await this.redis.hyvveIpLease(keys.length, ...keys, ...args);
      this.failing = false;
      const answeredAt = this.now();
      batch.forEach((lease, index) => {
        lease.charging = 0;
        lease.givingBack = 0;
        const granted = Number(reply[index * 2]);
        if (granted > 0) lease.grants.push({ tokens: granted, at: now });
        const wait = Number(reply[index * 2 + 1]);
        if (lease.grants.length === 0 && wait > 0) lease.refusedUntil = answeredAt + wait;
        this.wake(lease, answeredAt);
      });
    } catch (error) {
      this.failed(error, batch);
    } finally {
      this.settling = false;
    }
    // More IPs than one batch, or waiters that still want: settle again soon.
    if ([...this.leases.values()].some((lease) => lease.wanted)) this.schedule(this.flushMs);
  }

  private wake(lease: Lease, now: number): void {
    for (const waiter of lease.waiters.splice(0)) {
      if (this.spendLeased(lease, now)) {
        waiter.resolve();
      } else {
        waiter.reject(new RateLimitedError(Math.max(1, lease.refusedUntil - now)));
      }
    }
  }

  private failed(error: unknown, batch: Lease[]): void {
    // Limits hold per instance until Redis answers again; the credit stays owed.
    this.failing = true;
    for (const lease of batch) {
      lease.debt += lease.charging;
      lease.returning += lease.givingBack;
      lease.charging = 0;
      lease.givingBack = 0;
      lease.wanted = true;
      // Waiters were within their block: let them through rather than hold them.
      for (const waiter of lease.waiters.splice(0)) waiter.resolve();
    }
    const now = this.now();
    if (now - this.lastFailureLog > 60_000) {
      this.lastFailureLog = now;
      this.options.logger.warn(
        { err: error },
        'settling the per-IP limits with Redis failed; each instance limits IPs alone until it answers',
      );
    }
    // Retried once a second while Redis is away.
    this.schedule(1000);
  }
}
