// Revisions never go back for a live channel: over real sockets, with a real Redis and
// with the memory store, an open socket hears the first save after its state expired
// (TTL), and after Redis lost its data the socket is told to start over (a new `ready`
// with the new epoch) before it gets the new state.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { RunningServer } from '../src/index.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let redis: TestRedis;
const servers: Record<'memory' | 'redis', RunningServer | undefined> = {
  memory: undefined,
  redis: undefined,
};
const sockets: TestSocket[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  servers.memory = await testServer({ ttlSeconds: 1 });
  servers.redis = await testServer({ redisUrl: redis.url, ttlSeconds: 1 });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  await servers.redis?.close();
  await redis.close();
});

let n = 0;
const newUser = () => `epoch-user-${++n}`;

function serverOf(kind: 'memory' | 'redis'): RunningServer {
  const server = servers[kind];
  if (!server) throw new Error(`no ${kind} server`);
  return server;
}

describe.each(['memory', 'redis'] as const)('%s store, 1 s TTL', (kind) => {
  it('lets an open socket hear the first save after its state expired, at a higher revision', async () => {
    const server = serverOf(kind);
    const token = await tokenFor(newUser());
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    sockets.push(socket);
    const first = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 1 }) },
    });
    await socket.next('state', (m) => m.revision === 1);
    await waitFor(async () => (await api(server, 'GET', PATH, { token })).status === 404, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the state to expire',
    });
    const marker = 'after-expiry';
    const second = await api(server, 'POST', PATH, {
      token,
      // Older than the expired state: nothing stored is newer, so it is saved.
      body: { state: makeState({ timestamp: T0, activeProject: marker }) },
    });
    expect(second.status).toBe(200);
    expect(field(second.body, 'revision')).toBe(2);
    expect(field(second.body, 'epoch')).toBe(field(first.body, 'epoch'));
    const heard = await socket.next('state', (m) => m.state.activeProject === marker);
    expect(heard.revision).toBe(2);
    // Same epoch: no reset, the socket simply went on.
    expect(socket.messages.filter((m) => m.type === 'ready')).toHaveLength(1);
  });
});

describe('Redis losing its data under a live channel', () => {
  it('tells the socket to start over (ready with the new epoch) before the first state of the new epoch', async () => {
    const server = serverOf('redis');
    const token = await tokenFor(newUser());
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    sockets.push(socket);
    let before = '';
    for (let i = 1; i <= 3; i++) {
      const saved = await api(server, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + i }) },
      });
      before = String(field(saved.body, 'epoch'));
    }
    await socket.next('state', (m) => m.revision === 3);

    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    const marker = 'new-epoch';
    const saved = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 4, activeProject: marker }) },
    });
    expect(field(saved.body, 'revision')).toBe(1);
    const after = field(saved.body, 'epoch');
    expect(after).not.toBe(before);

    const reset = await socket.next('ready', (m) => m.epoch === after, { timeoutMs: 10_000 });
    expect(reset.revision).toBe(1);
    const heard = await socket.next('state', (m) => m.state.activeProject === marker, {
      timeoutMs: 10_000,
    });
    expect(heard.revision).toBe(1);
    expect(socket.messages.indexOf(reset)).toBeLessThan(socket.messages.indexOf(heard));
    // An ETag of the old epoch never matches the new content.
    const conditional = await api(server, 'GET', PATH, {
      token,
      headers: { 'if-none-match': `"${before}.1"` },
    });
    expect(conditional.status).toBe(200);
  });
});
