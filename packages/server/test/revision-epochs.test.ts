// Revisions never go back for a live channel: over real sockets, with a real Redis, a real
// Redis Cluster (sharded pub/sub) and the memory store, an open socket hears the first save
// after its state expired (TTL), and after Redis (or the user's shard) lost its data the
// socket is told to start over (a new `ready` with the new epoch) before it gets the new state.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  startTestRedisCluster,
  type TestRedisCluster,
} from '../../../test-support/redis-cluster.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { type RunningServer, stateScope } from '../src/index.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
type Kind = 'memory' | 'redis' | 'redis-cluster';
let redis: TestRedis;
let cluster: TestRedisCluster;
const servers: Record<Kind, RunningServer | undefined> = {
  memory: undefined,
  redis: undefined,
  'redis-cluster': undefined,
};
const sockets: TestSocket[] = [];

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startTestRedis(), startTestRedisCluster()]);
  servers.memory = await testServer({ ttlSeconds: 1 });
  servers.redis = await testServer({ redisUrl: redis.url, ttlSeconds: 1 });
  servers['redis-cluster'] = await testServer({
    redisCluster: { nodes: cluster.seeds },
    ttlSeconds: 1,
  });
}, 60_000);
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  await Promise.all([servers.redis?.close(), servers['redis-cluster']?.close()]);
  await Promise.all([redis.close(), cluster.close()]);
});

let n = 0;
const newUser = () => `epoch-user-${++n}`;

/** A key's value, read on the one Redis or on the cluster node owning it. */
async function readKey(kind: 'redis' | 'redis-cluster', key: string): Promise<string> {
  if (kind === 'redis-cluster') {
    return (await cluster.cli(['GET', key], await cluster.primaryPortOf(key))).trim();
  }
  const client = new Redis(redis.url);
  client.on('error', () => {});
  try {
    return (await client.get(key)) ?? '';
  } finally {
    client.disconnect();
  }
}

/** FLUSHALL on the one Redis, or on the cluster primary owning `key` (that shard lost its data). */
async function flushOwner(kind: 'redis' | 'redis-cluster', key: string): Promise<void> {
  if (kind === 'redis-cluster') {
    await cluster.cli(['FLUSHALL'], await cluster.primaryPortOf(key));
    return;
  }
  const admin = new Redis(redis.url);
  admin.on('error', () => {});
  try {
    await admin.flushall();
  } finally {
    admin.disconnect();
  }
}

function serverOf(kind: Kind): RunningServer {
  const server = servers[kind];
  if (!server) throw new Error(`no ${kind} server`);
  return server;
}

describe.each(['memory', 'redis', 'redis-cluster'] as const)('%s store, 1 s TTL', (kind) => {
  it('lets an open socket hear the first save after its state expired, at a higher revision', async () => {
    const server = serverOf(kind);
    const userId = newUser();
    const token = await tokenFor(userId);
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
    if (kind !== 'memory') {
      // Redis TIME (seconds and microseconds) of the counter's creation, in the user's slot.
      expect(field(first.body, 'epoch')).toMatch(/^\d{16}$/);
      const { revisionKey } = stateScope('acme', userId);
      expect(await readKey(kind, revisionKey)).toBe(`2:${String(field(first.body, 'epoch'))}`);
    }
    const heard = await socket.next('state', (m) => m.state.activeProject === marker);
    expect(heard.revision).toBe(2);
    // Same epoch: no reset, the socket simply went on (its second ready named the epoch
    // the first save created: the channel was opened before the user had a counter).
    const readies = socket.messages.filter((m) => m.type === 'ready');
    expect(readies.map((m) => m.epoch)).toEqual(['', field(first.body, 'epoch')]);
  });
});

describe.each(['memory', 'redis', 'redis-cluster'] as const)(
  '%s store, a channel opened before the user had a counter',
  (kind) => {
    it('tells the socket the epoch the first save created (ready again, same revision), and names it to later sockets', async () => {
      const server = serverOf(kind);
      const token = await tokenFor(newUser());
      const { socket } = await TestSocket.ready(wsUrl(server), token);
      sockets.push(socket);
      expect(socket.messages[0]).toMatchObject({ type: 'ready', revision: 0, epoch: '' });

      const saved = await api(server, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + 1 }) },
      });
      expect(saved.status).toBe(200);
      const epoch = field(saved.body, 'epoch');
      expect(epoch).not.toBe('');
      const learned = await socket.next('ready', (m) => m.epoch === epoch, { timeoutMs: 10_000 });
      await socket.next('state', (m) => m.revision === 1);
      // It names the newest revision the socket was sent before it (0, or 1 when the state
      // went first): the counter was created, nothing reset, nothing skipped.
      const before = socket.messages.slice(0, socket.messages.indexOf(learned));
      const sentBefore = before.filter((m) => m.type === 'state').map((m) => m.revision);
      expect(learned.revision).toBe(Math.max(0, ...sentBefore));

      // The instance still holds the channel (the first socket is open): a reconnect's
      // ready names the counter's epoch, not the '' the channel was opened with.
      const { socket: again } = await TestSocket.ready(wsUrl(server), token);
      sockets.push(again);
      expect(again.messages[0]).toMatchObject({ type: 'ready', revision: 1, epoch });

      // Changes go on under that epoch: no further ready on either socket.
      const second = await api(server, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + 2 }) },
      });
      expect(field(second.body, 'epoch')).toBe(epoch);
      await socket.next('state', (m) => m.revision === 2);
      await again.next('state', (m) => m.revision === 2);
      expect(socket.messages.filter((m) => m.type === 'ready')).toHaveLength(2);
      expect(again.messages.filter((m) => m.type === 'ready')).toHaveLength(1);
    });

    it('tells a socket that saved first the epoch by its answer, and its renewal ready repeats it', async () => {
      const server = serverOf(kind);
      const token = await tokenFor(newUser());
      const { socket } = await TestSocket.ready(wsUrl(server), token);
      sockets.push(socket);
      // Another socket on the channel, told by ready: the channel learns the epoch either way.
      const { socket: other } = await TestSocket.ready(wsUrl(server), token);
      sockets.push(other);
      socket.send({ type: 'save', id: 's1', state: makeState({ timestamp: T0 + 1 }) });
      const saved = await socket.next('saved', (m) => m.id === 's1');
      expect(saved.epoch).not.toBe('');
      await other.next('ready', (m) => m.epoch === saved.epoch, { timeoutMs: 10_000 });
      await socket.next('state', (m) => m.revision === saved.revision);
      // Told by its answer, the socket needs no ready for the epoch after it (the memory
      // store's channel may learn it, and say so, before the save is answered).
      const afterAnswer = socket.messages.indexOf(saved);
      expect(socket.messages.slice(afterAnswer).filter((m) => m.type === 'ready')).toEqual([]);
      // The renewal's ready repeats what the socket knows: the epoch of its answer.
      socket.send({ type: 'auth', token });
      const renewed = await socket.next('ready', () => true, { from: afterAnswer });
      expect(renewed).toMatchObject({ revision: saved.revision, epoch: saved.epoch });
    });
  },
);

describe.each(['redis', 'redis-cluster'] as const)(
  '%s losing its data under a live channel',
  (kind) => {
    it('tells the socket to start over (ready with the new epoch) before the first state of the new epoch', async () => {
      const server = serverOf(kind);
      const userId = newUser();
      const token = await tokenFor(userId);
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

      await flushOwner(kind, stateScope('acme', userId).stateKey);
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
  },
);
