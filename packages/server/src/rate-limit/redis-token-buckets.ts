// Token buckets in Redis, so every instance spends from the same bucket: N instances
// allow what one does. One Lua script refills and spends atomically on Redis's clock
// (instances with skewed clocks agree). The key carries a hash tag, so it names one
// slot and the script runs on Redis Cluster too.
import type { Cluster, Redis } from 'ioredis';
import { RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BucketRate, TokenBuckets } from './token-buckets.js';

/** KEYS[1] bucket; ARGV rate per second, burst. Returns 0 when spent, else ms to wait. */
export const TAKE_TOKEN_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

/** `dashboard:ratelimit:{<kind>:<id>}`: one slot per bucket. */
export function rateLimitKey(kind: string, id: string): string {
  return `dashboard:ratelimit:{${kind}:${id}}`;
}

type TakeToken = (key: string, perSecond: number, burst: number) => Promise<number>;

interface WithTakeToken {
  hyvveTakeToken: TakeToken;
}

function withTakeToken(redis: Redis | Cluster): WithTakeToken {
  if (!('hyvveTakeToken' in redis)) {
    // ioredis sends EVALSHA and falls back to EVAL once after a NOSCRIPT (a Redis restart).
    redis.defineCommand('hyvveTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN_SCRIPT });
  }
  return redis as unknown as WithTakeToken;
}

export class RedisTokenBuckets implements TokenBuckets {
  private readonly redis: WithTakeToken;
  private lastFailureLog = 0;

  constructor(
    redis: Redis | Cluster,
    private readonly kind: string,
    private readonly rate: BucketRate,
    private readonly logger: Logger,
  ) {
    this.redis = withTakeToken(redis);
  }

  async take(id: string): Promise<void> {
    let wait: number;
    try {
      wait = await this.redis.hyvveTakeToken(
        rateLimitKey(this.kind, id),
        this.rate.perSecond,
        this.rate.burst,
      );
    } catch (error) {
      // Fails open: without Redis the state requests answer 503 anyway, and reads of the
      // page must not stop because the limiter's store is away. Logged once a minute.
      const now = Date.now();
      if (now - this.lastFailureLog > 60_000) {
        this.lastFailureLog = now;
        this.logger.warn(
          { err: error, kind: this.kind },
          'rate limit check failed; letting requests through',
        );
      }
      return;
    }
    if (wait > 0) throw new RateLimitedError(wait);
  }
}
