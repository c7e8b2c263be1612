// Framework floor: the save route with Fastify's JSON body parsing and nothing else.
// Whatever a real save adds is measured against this and the Redis floor.
import Fastify from 'fastify';
import { runServerChild } from '../lib/child-side.js';
import { BODY_LIMIT_BYTES, SAVE_PATH } from './env.js';

await runServerChild(async () => {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });
  app.post(SAVE_PATH, async () => ({ revision: 0, savedAt: Date.now() }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { port, close: () => app.close() };
});
