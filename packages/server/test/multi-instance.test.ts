// Several stateless instances on one Redis, and on a Redis Cluster (3 primaries, started
// once for the file) with sharded and with classic pub/sub: fan-out across instances, one
// Redis subscription per channel per instance, and revisions that stay unique and ordered
// under concurrent saves from many clients.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  startTestRedisCluster,
  type TestRedisCluster,
} from '../../../test-support/redis-cluster.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { RunningServer, ServerOptions } from '../src/index.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let redis: TestRedis;
let cluster: TestRedisCluster;
let client: Redis;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startTestRedis(), startTestRedisCluster()]);
  client = new Redis(redis.url);
  client.on('error', () => {});
}, 60_000);
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  client.disconnect();
  await Promise.all([redis.close(), cluster.close()]);
});

interface Backend {
  /** Suffix of this backend's user ids (the two cluster modes share one cluster). */
  id: string;
  /** Where the instances keep state. */
  options(): Pick<ServerOptions, 'redisUrl' | 'redisCluster'>;
  /** Subscriptions held on `channel`, counted where that pub/sub mode keeps them. */
  numsub(channel: string): Promise<number>;
}

const backends: Array<[string, Backend]> = [
  [
    'one Redis',
    {
      id: 'single',
      options: () => ({ redisUrl: redis.url }),
      async numsub(channel) {
        const reply = await client.pubsub('NUMSUB', channel);
        return Number(Array.isArray(reply) ? reply[1] : 0);
      },
    },
  ],
  [
    'a Redis Cluster with sharded pub/sub',
    {
      id: 'sharded',
      options: () => ({ redisCluster: { nodes: cluster.seeds, pubsub: 'sharded' } }),
      // A shard channel's subscriptions live on the primary owning its slot only.
      async numsub(channel) {
        const port = await cluster.primaryPortOf(channel);
        const reply = await cluster.cli(['PUBSUB', 'SHARDNUMSUB', channel], port);
        return Number(reply.trim().split('\n')[1]);
      },
    },
  ],
  [
    'a Redis Cluster with classic pub/sub',
    {
      id: 'classic',
      options: () => ({ redisCluster: { nodes: cluster.seeds, pubsub: 'classic' } }),
      // Classic subscriptions sit on whichever node each instance's subscriber chose.
      async numsub(channel) {
        const counts = await Promise.all(
          cluster.nodes.map(async (node) => {
            const reply = await cluster.cli(['PUBSUB', 'NUMSUB', channel], node.port);
            return Number(reply.trim().split('\n')[1]);
          }),
        );
        return counts.reduce((sum, count) => sum + count, 0);
      },
    },
  ],
];

describe.each(backends)('instances on %s', (_label, backend) => {
  let a: RunningServer;
  let b: RunningServer;
  const user = (name: string): string => `${name}-${backend.id}`;
  beforeAll(async () => {
    a = await testServer({ ...backend.options(), instanceId: 'multi-a' });
    b = await testServer({ ...backend.options(), instanceId: 'multi-b' });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  async function ready(server: RunningServer, token: string) {
    const { socket, revision } = await TestSocket.ready(wsUrl(server), token);
    sockets.push(socket);
    return { socket, revision };
  }

  describe('two instances', () => {
    it('delivers to a WebSocket on instance A a save made through instance B', async () => {
      const token = await tokenFor(user('cross-1'));
      const { socket } = await ready(a, token);
      const state = makeState({ alerts: 7 });
      await api(b, 'POST', PATH, { token, body: { state } });
      expect(await socket.next('state')).toMatchObject({ state, revision: 1, origin: 'http' });
    });

    it('delivers a socket save on B to sockets on A and B, and a delete on A to both', async () => {
      const token = await tokenFor(user('cross-2'));
      const { socket: onA } = await ready(a, token);
      const { socket: onB } = await ready(b, token);
      onB.send({ type: 'save', id: 's1', state: makeState() });
      await onB.next('saved');
      await onA.next('state', (m) => m.revision === 1);
      await onB.next('state', (m) => m.revision === 1);
      await api(a, 'DELETE', PATH, { token });
      await onA.next('deleted', (m) => m.revision === 2);
      await onB.next('deleted', (m) => m.revision === 2);
    });

    it('holds one Redis subscription per channel per instance, shared by its sockets', async () => {
      const userId = user('shared-channel');
      const token = await tokenFor(userId);
      const channel = `dashboard:state:channel:{acme:${userId}}`;
      const onA = await Promise.all([ready(a, token), ready(a, token), ready(a, token)]);
      expect(await backend.numsub(channel)).toBe(1);
      const onB = await ready(b, token);
      expect(await backend.numsub(channel)).toBe(2);
      for (const { socket } of onA) socket.close();
      onB.socket.close();
      await waitFor(async () => (await backend.numsub(channel)) === 0, {
        what: 'both instances to leave the channel',
      });
    });
  });

  describe('concurrent saves from many clients', () => {
    it('hands out each revision once, in order, and keeps the newest state', async () => {
      const token = await tokenFor(user('concurrent'));
      const { socket: watcher } = await ready(a, token);
      const clients = 8;
      const savesPerClient = 5;
      // Timestamps are shuffled across clients so arrival order and state age disagree.
      const timestamps = Array.from({ length: clients * savesPerClient }, (_, i) => T0 + i * 10);
      for (let i = timestamps.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [timestamps[i], timestamps[j]] = [timestamps[j] ?? 0, timestamps[i] ?? 0];
      }
      const results = await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const outcomes: Array<{ status: number; revision?: number; timestamp: number }> = [];
          for (let s = 0; s < savesPerClient; s++) {
            const timestamp = timestamps[c * savesPerClient + s] ?? T0;
            const server = (c + s) % 2 === 0 ? a : b;
            const res = await api(server, 'POST', PATH, {
              token,
              body: { state: makeState({ timestamp, activeProject: `p-${timestamp}` }) },
            });
            const revision = field(res.body, 'revision');
            outcomes.push({
              status: res.status,
              timestamp,
              ...(typeof revision === 'number' ? { revision } : {}),
            });
          }
          return outcomes;
        }),
      );
      const all = results.flat();
      expect(all.every((outcome) => outcome.status === 200 || outcome.status === 409)).toBe(true);
      const revisions = all.flatMap((outcome) =>
        outcome.revision === undefined ? [] : [outcome.revision],
      );
      expect(new Set(revisions).size).toBe(revisions.length);
      expect([...revisions].sort((x, y) => x - y)).toEqual(
        Array.from({ length: revisions.length }, (_, i) => i + 1),
      );
      const newest = Math.max(...timestamps);
      expect(all.find((outcome) => outcome.timestamp === newest)?.status).toBe(200);
      const stored = await api(b, 'GET', PATH, { token });
      expect(field(stored.body, 'revision')).toBe(revisions.length);
      expect(field(field(stored.body, 'state'), 'timestamp')).toBe(newest);
      // The watcher ends at the newest save, having seen changes in increasing revision order
      // (a change still waiting to be written is replaced by a newer one: latest wins).
      await watcher.next('state', (m) => m.revision === revisions.length);
      const seen = watcher.messages.flatMap((m) => (m.type === 'state' ? [m.revision] : []));
      expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y));
      expect(seen.at(-1)).toBe(revisions.length);
    });
  });
});
