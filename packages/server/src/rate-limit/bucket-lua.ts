// The Lua twin of token-buckets.ts, for the scripts that spend a user's token in the same
// call as the save, read or delete (store/redis/scripts.ts) and for the IP leases
// (ip-leases.ts). Same double arithmetic in the same order as `refill`, `waitFor` and
// `spendToken`; tokens are stored with 17 significant digits, so a value read back is the
// double written and both rules stay in step (test/token-bucket-twin.test.ts).

/**
 * Lua functions: `redisNow()` (ms on Redis's clock, so instances with skewed clocks agree),
 * `takeToken(key, rate, burst, now)` → 0 when a token was spent, else ms to wait, and
 * `refillBucket` / `storeBucket` / `bucketWait` for the leases.
 */
export const BUCKET_LUA = `
local function redisNow()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function refillBucket(key, rate, burst, now)
  local stored = redis.call('HMGET', key, 't', 'at')
  local tokens = tonumber(stored[1])
  local at = tonumber(stored[2])
  if tokens == nil or at == nil then return burst end
  return math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
end
local function bucketWait(tokens, rate)
  if tokens >= 1 then return 0 end
  return math.ceil((1 - tokens) * 1000 / rate)
end
local function storeBucket(key, tokens, now, rate, burst)
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
  redis.call('PEXPIRE', key, math.max(math.ceil(burst * 1000 / rate) + 1000, 60000))
end
local function takeToken(key, rate, burst, now)
  local tokens = refillBucket(key, rate, burst, now)
  local wait = bucketWait(tokens, rate)
  if wait == 0 then tokens = tokens - 1 end
  storeBucket(key, tokens, now, rate, burst)
  return wait
end
`;

/** KEYS[1] bucket; ARGV rate per second, burst. Returns 0 when spent, else ms to wait. */
export const TAKE_TOKEN_LUA = `${BUCKET_LUA}
return takeToken(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), redisNow())
`;
