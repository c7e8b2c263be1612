// Redis floor: the least any Redis-backed save can do. Fastify parses the body, the
// state is serialised once, and one raw EVALSHA sets the key with its TTL and publishes
// the same payload. No auth, no validation, no conflict rule.
import { STATE_TTL_SECONDS } from '@hyvve/schema';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { runServerChild } from '../lib/child-side.js';
import { BENCH_USER_HEADER, BODY_LIMIT_BYTES, requireEnv, SAVE_PATH } from './env.js';

const SAVE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1
`;

await runServerChild(async () => {
  const redis = new Redis(requireEnv('BENCH_REDIS_URL'), { lazyConnect: false });
  const sha = String(await redis.script('LOAD', SAVE_SCRIPT));
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });
  app.post(SAVE_PATH, async (request) => {
    const user = request.headers[BENCH_USER_HEADER];
    const userId = typeof user === 'string' ? user : 'anonymous';
    const payload = JSON.stringify((request.body as { state?: unknown }).state);
    await redis.evalsha(
      sha,
      2,
      `dashboard:state:bench-ws:${userId}`,
      `dashboard:state:channel:bench-ws:${userId}`,
      payload,
      STATE_TTL_SECONDS,
    );
    return { revision: 0, savedAt: Date.now() };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: async () => {
      await app.close();
      redis.disconnect();
    },
  };
});
