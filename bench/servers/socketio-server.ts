// Fan-out baseline: Socket.IO 4 with @socket.io/redis-adapter, one room per user, as a
// team would build it. Saves arrive by HTTP POST (the same writer as ours), are stored
// with SET EX and broadcast to the user's room across instances through the adapter.
// The baseline is given every advantage ours may take: verified tokens are cached, the
// websocket transport only, no per-message compression.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { STATE_TTL_SECONDS } from '@hyvve/schema';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';
import { runServerChild } from '../lib/child-side.js';
import { BODY_LIMIT_BYTES, requireEnv, SAVE_PATH } from './env.js';

interface Identity {
  room: string;
  key: string;
}

class UnauthorizedError extends Error {
  constructor(reason: string) {
    super(`unauthorized: ${reason}`);
    this.name = 'UnauthorizedError';
  }
}

function createVerifier(secret: string): (token: unknown) => Promise<Identity> {
  const key = new TextEncoder().encode(secret);
  const cache = new Map<string, Identity>();
  return async (token) => {
    if (typeof token !== 'string' || token === '') throw new UnauthorizedError('no token');
    const cached = cache.get(token);
    if (cached) return cached;
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.wid !== 'string') {
      throw new UnauthorizedError('missing sub or wid');
    }
    const identity = {
      room: `${payload.wid}:${payload.sub}`,
      key: `dashboard:state:${payload.wid}:${payload.sub}`,
    };
    cache.set(token, identity);
    return identity;
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > BODY_LIMIT_BYTES) throw new RangeError('body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

await runServerChild(async () => {
  const redisUrl = requireEnv('BENCH_REDIS_URL');
  const instanceId = requireEnv('BENCH_INSTANCE_ID');
  const verify = createVerifier(requireEnv('BENCH_AUTH_SECRET'));
  const store = new Redis(redisUrl);
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();

  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    adapter: createAdapter(pub, sub),
  });
  io.use((socket, next) => {
    verify((socket.handshake.auth as { token?: unknown }).token)
      .then((identity) => {
        socket.data.room = identity.room;
        next();
      })
      .catch((error: unknown) => next(error instanceof Error ? error : new Error(String(error))));
  });
  io.on('connection', (socket) => {
    socket.join(String(socket.data.room));
  });

  http.on('request', (request: IncomingMessage, response: ServerResponse) => {
    // socket.io answers its own path; everything else is the save route.
    if (request.url?.startsWith('/socket.io/')) return;
    if (request.method !== 'POST' || request.url !== SAVE_PATH) {
      reply(response, 404, { error: 'not_found' });
      return;
    }
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    (async () => {
      const identity = await verify(token);
      const { state } = JSON.parse(await readBody(request)) as { state: unknown };
      const savedAt = Date.now();
      await store.set(identity.key, JSON.stringify(state), 'EX', STATE_TTL_SECONDS);
      io.to(identity.room).emit('state', {
        type: 'state',
        state,
        revision: 0,
        savedAt,
        origin: instanceId,
      });
      reply(response, 200, { revision: 0, savedAt });
    })().catch((error: unknown) => {
      const status =
        error instanceof UnauthorizedError ||
        (error instanceof Error && error.name.startsWith('JW'))
          ? 401
          : 500;
      reply(response, status, { error: String(error) });
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: async () => {
      await io.close();
      store.disconnect();
      pub.disconnect();
      sub.disconnect();
    },
  };
});
