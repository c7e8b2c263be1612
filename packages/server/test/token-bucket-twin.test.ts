// The token-bucket rule exists twice: in TypeScript (token-buckets.ts: the memory store and
// the IP fallback) and in Lua (bucket-lua.ts: the Redis scripts). Run on the same clock
// (Redis TIME replaced by the test's), they must agree on every admission, every wait and
// every stored token count, to the last bit.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { BUCKET_LUA } from '../src/rate-limit/bucket-lua.js';
import { type Bucket, type BucketRate, spendToken } from '../src/rate-limit/token-buckets.js';

// takeToken as the scripts call it, with `now` given instead of read from TIME.
const AT_GIVEN_TIME = `${BUCKET_LUA}
local wait = takeToken(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {wait, redis.call('HGET', KEYS[1], 't'), redis.call('HGET', KEYS[1], 'at')}
`;

let redis: TestRedis;
let client: Redis;
let run = 0;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.close();
});

async function luaTake(key: string, rate: BucketRate, now: number) {
  const [wait, tokens, at] = (await client.eval(
    AT_GIVEN_TIME,
    1,
    key,
    String(rate.perSecond),
    String(rate.burst),
    String(now),
  )) as [number, string, string];
  return { wait, tokens: Number(tokens), at: Number(at) };
}

describe('the token bucket rule and its Lua twin', () => {
  it('admit, refuse, wait and store alike for any rate, burst and spacing of requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          perSecond: fc.oneof(
            fc.integer({ min: 1, max: 1000 }),
            fc.double({ min: 0.05, max: 50, noNaN: true }),
          ),
          burst: fc.integer({ min: 1, max: 300 }),
        }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 60 }),
        async (rate, gaps) => {
          const key = `twin:${++run}`;
          let bucket: Bucket | undefined;
          let now = 1_733_000_000_000;
          for (const gap of gaps) {
            now += gap;
            const local = spendToken(bucket, now, rate);
            bucket = local.bucket;
            const remote = await luaTake(key, rate, now);
            expect(remote.wait).toBe(local.waitMs);
            expect(remote.tokens).toBe(local.bucket.tokens);
            expect(remote.at).toBe(local.bucket.at);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses after the burst and names the wait until the next token', async () => {
    const rate = { perSecond: 2, burst: 3 };
    const now = 1_733_000_000_000;
    for (let i = 0; i < 3; i++) expect((await luaTake('twin:burst', rate, now)).wait).toBe(0);
    expect((await luaTake('twin:burst', rate, now)).wait).toBe(500);
    expect((await luaTake('twin:burst', rate, now + 500)).wait).toBe(0);
  });
});
