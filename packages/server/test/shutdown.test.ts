// Graceful shutdown: a save that is in flight when close() starts still reaches Redis
// before the connections are quit, and its keep-alive connection does not hold close().
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { CloseCode, type RunningServer, STATE_PATH } from '../src/index.js';
import { testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis.close());

/**
 * Holds every save the service is asked for until `release()`: a save in flight when
 * close() starts. `inFlight()` resolves once the first one has arrived.
 */
function holdSaves(server: RunningServer) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const save = server.service.save.bind(server.service);
  const spy = vi.spyOn(server.service, 'save').mockImplementation(async (...args) => {
    await gate;
    return save(...args);
  });
  const inFlight = () =>
    waitFor(() => spy.mock.calls.length === 1, { what: 'the save to be in flight' });
  return { inFlight, release };
}

describe('graceful shutdown', () => {
  it('finishes a socket save in flight before closing the store, then says 1001', async () => {
    const server = await testServer({ redisUrl: redis.url });
    const token = await tokenFor('flush-user');
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    const { inFlight, release } = holdSaves(server);
    socket.send({ type: 'save', id: 'last-words', state: makeState() });
    await inFlight();
    const closing = server.close();
    expect((await socket.waitClosed()).code).toBe(CloseCode.goingAway);
    release();
    await closing;
    const client = new Redis(redis.url);
    try {
      const stored = JSON.parse((await client.get('dashboard:state:{acme:flush-user}')) ?? '{}');
      expect(stored.revision).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('answers an HTTP save in flight with Connection: close, so a keep-alive client does not hold close()', async () => {
    const server = await testServer({ redisUrl: redis.url });
    const token = await tokenFor('keep-alive-user');
    const { inFlight, release } = holdSaves(server);
    // A client that keeps connections alive (as browsers, undici and proxies do).
    const agent = new Agent({ keepAlive: true });
    const body = JSON.stringify({ state: makeState() });
    const answered = new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const req = request(
          `${server.url}${STATE_PATH}`,
          {
            method: 'POST',
            agent,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.once('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
            );
          },
        );
        req.once('error', reject);
        req.end(body);
      },
    );
    try {
      await inFlight();
      const closing = server.close();
      release();
      expect(await answered).toEqual({ status: 200, connection: 'close' });
      // Without `Connection: close` the idle connection would hold this for the keep-alive timeout (72 s).
      await closing;
    } finally {
      agent.destroy();
    }
  });
});
