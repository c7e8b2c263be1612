// Servers on a real Redis Cluster (3 primaries + 3 replicas, started once for the file):
// slots computed as Redis does, /readyz naming the store, scripts found again on nodes that
// lost them, and the failover of the primary owning a user's slot, in both pub/sub modes:
// other shards keep saving, the failed shard answers 503 (never hangs) until its replica
// takes over, and every subscriber ends at the newest revision.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  type SlotRange,
  startTestRedisCluster,
  type TestRedisCluster,
} from '../../../test-support/redis-cluster.js';
import { stateMessageText } from '../src/channel/channel-event.js';
import {
  type ClusterPubSub,
  DEFAULT_RATE_LIMIT,
  type RunningServer,
  stateScope,
} from '../src/index.js';
import { keySlot } from '../src/store/redis/key-slot.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let cluster: TestRedisCluster;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  cluster = await startTestRedisCluster({ primaries: 3, replicas: 1 });
}, 60_000);
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(() => cluster.close());

function ownerOf(ranges: readonly SlotRange[], key: string): number {
  const slot = keySlot(key);
  const range = ranges.find((candidate) => slot >= candidate.from && slot <= candidate.to);
  if (!range) throw new Error(`no primary owns slot ${slot}`);
  return range.port;
}

/** A user id (with `prefix`) whose slot is owned by the primary on `port`, or not. */
function userOwnedBy(ranges: readonly SlotRange[], prefix: string, port: number, owned = true) {
  for (let index = 0; index < 10_000; index += 1) {
    const userId = `${prefix}-${index}`;
    if ((ownerOf(ranges, stateScope('acme', userId).stateKey) === port) === owned) return userId;
  }
  throw new Error(`no user id found for port ${port}`);
}

async function ready(server: RunningServer, token: string): Promise<TestSocket> {
  const { socket } = await TestSocket.ready(wsUrl(server), token);
  sockets.push(socket);
  return socket;
}

async function saveAt(server: RunningServer, token: string, timestamp: number) {
  const started = Date.now();
  const response = await api(server, 'POST', PATH, {
    token,
    body: { state: makeState({ timestamp }) },
  });
  return { ...response, tookMs: Date.now() - started };
}

describe('key slots', () => {
  it('are the ones Redis computes, and one user names one slot', async () => {
    const keys = [
      'dashboard:state:{acme:alice}',
      'dashboard:state:acme:alice',
      'plain',
      '{}',
      'a{}b{c}',
      '{a}{b}',
      'x{y',
      'ünïcode{ü}',
      '',
    ];
    for (const key of keys) {
      const expected = Number((await cluster.cli(['CLUSTER', 'KEYSLOT', key])).trim());
      expect([key, keySlot(key)]).toEqual([key, expected]);
    }
    const user = stateScope('acme', 'alice');
    expect(new Set([user.stateKey, user.revisionKey, user.channel].map(keySlot)).size).toBe(1);
  });

  it('agree with Redis for arbitrary keys, and put every name of any user in one slot', async () => {
    const node = new Redis(cluster.seeds[0]?.port ?? 0, '127.0.0.1');
    node.on('error', () => {});
    try {
      const keys = fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), 300);
      const slots = await Promise.all(keys.map((key) => node.call('CLUSTER', 'KEYSLOT', key)));
      expect(keys.map(keySlot)).toEqual(slots.map(Number));
    } finally {
      node.disconnect();
    }
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/);
    fc.assert(
      fc.property(id, id, (workspaceId, userId) => {
        const user = stateScope(workspaceId, userId);
        const slot = keySlot(`${workspaceId}:${userId}`);
        return [user.stateKey, user.revisionKey, user.channel].every(
          (name) => keySlot(name) === slot,
        );
      }),
    );
  });
});

describe('a server on the cluster', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await testServer({ redisCluster: { nodes: cluster.seeds }, instanceId: 'cluster-1' });
  });

  it('reports the store as redis-cluster on /readyz', async () => {
    const response = await api(server, 'GET', '/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', store: 'redis-cluster' });
  });

  it('saves and loads on every shard after every node lost its scripts', async () => {
    const ranges = await cluster.slotRanges();
    const primaries = [...new Set(ranges.map((range) => range.port))];
    for (const port of primaries) await cluster.cli(['SCRIPT', 'FLUSH'], port);
    for (const port of primaries) {
      const token = await tokenFor(userOwnedBy(ranges, 'flushed', port));
      expect((await saveAt(server, token, T0)).status).toBe(200);
      const loaded = await api(server, 'GET', PATH, { token });
      expect(field(loaded.body, 'revision')).toBe(1);
    }
  });
});

describe.each<ClusterPubSub>(['sharded', 'classic'])('failover with %s pub/sub', (pubsub) => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    await cluster.waitUntilHealthy();
    const redisCluster = { nodes: cluster.seeds, pubsub };
    a = await testServer({ redisCluster, instanceId: `failover-${pubsub}-a` });
    b = await testServer({ redisCluster, instanceId: `failover-${pubsub}-b` });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps other shards saving, brings the failed one back, and every subscriber up to date', async () => {
    const ranges = await cluster.slotRanges();
    const victimPort = ranges[0]?.port ?? 0;
    const victimId = userOwnedBy(ranges, `victim-${pubsub}`, victimPort);
    const victim = await tokenFor(victimId);
    const { stateKey: victimKey, channel: victimChannel } = stateScope('acme', victimId);
    const bystander = await tokenFor(userOwnedBy(ranges, `bystander-${pubsub}`, victimPort, false));
    const watchers = {
      victim: [await ready(a, victim), await ready(b, victim)],
      bystander: [await ready(a, bystander), await ready(b, bystander)],
    };
    expect((await saveAt(a, victim, T0)).status).toBe(200);
    expect((await saveAt(b, bystander, T0)).status).toBe(200);

    await cluster.stopNode(victimPort, 'SIGKILL');
    try {
      // The failed shard fails fast (503, no hang) while its primary is gone...
      const refused = await saveAt(a, victim, T0 + 1);
      expect(refused.status).toBe(503);
      expect(refused.tookMs).toBeLessThan(5000);
      // ...while the other shards go on.
      for (let step = 1; step <= 3; step += 1) {
        const saved = await saveAt(step % 2 ? a : b, bystander, T0 + step);
        expect(saved.status).toBe(200);
      }
      // The moment the replica owns the slot, another writer stores revision 2 there and
      // publishes it, most likely before the servers have subscribed on the new primary:
      // their sockets must get it from the catch-up that follows the re-subscription.
      const newOwner = await waitFor(
        async () => {
          const port = ownerOf(await cluster.slotRanges(), victimKey);
          return port === victimPort ? null : port;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'the replica to be promoted' },
      );
      const message = stateMessageText(
        JSON.stringify(makeState({ timestamp: T0 + 2 })),
        2,
        Date.now(),
        'agent',
        T0 + 2,
      );
      await cluster.cli(['SET', victimKey, message, 'EX', '600'], newOwner);
      await cluster.cli(
        [pubsub === 'sharded' ? 'SPUBLISH' : 'PUBLISH', victimChannel, message],
        newOwner,
      );
      for (const socket of watchers.victim) {
        await waitFor(() => socket.lastChangeRevision() === 2, {
          timeoutMs: 20_000,
          what: 'a subscriber of the failed shard to catch up to revision 2',
        });
      }
      // Saves through the servers reach the promoted primary (after a few 503s at most).
      // The loop only polls; what each attempt answered is checked after it.
      const attempts: { status: number; tookMs: number }[] = [];
      await waitFor(
        async () => {
          const attempt = await saveAt(a, victim, T0 + 3);
          attempts.push({ status: attempt.status, tookMs: attempt.tookMs });
          return attempt.status === 200;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: 'a save on the failed shard after promotion' },
      );
      // Every attempt before the first 200 was a fast 503: no 500, no hang.
      expect(attempts.map((attempt) => attempt.status)).toEqual([
        ...attempts.slice(1).map(() => 503),
        200,
      ]);
      expect(Math.max(...attempts.map((attempt) => attempt.tookMs))).toBeLessThan(5000);
      const last = await saveAt(b, victim, T0 + 4);
      expect(last.status).toBe(200);
      expect(field(last.body, 'revision')).toBe(4);

      for (const socket of watchers.victim) {
        await waitFor(() => socket.lastChangeRevision() === 4, {
          timeoutMs: 20_000,
          what: 'a subscriber of the failed shard to reach revision 4',
        });
      }
      for (const socket of watchers.bystander) {
        await waitFor(() => socket.lastChangeRevision() === 4, {
          timeoutMs: 20_000,
          what: 'a subscriber of another shard to reach revision 4',
        });
      }
    } finally {
      // The old primary comes back as a replica of the promoted one.
      await cluster.startNode(victimPort);
      await cluster.waitUntilHealthy(30_000);
    }
  }, 90_000);
});

describe.each<ClusterPubSub>(['sharded', 'classic'])('slot migration with %s pub/sub', (pubsub) => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    await cluster.waitUntilHealthy();
    const redisCluster = { nodes: cluster.seeds, pubsub };
    // The default limits: the user's bucket lives in the user's slot and moves with it.
    const rateLimit = DEFAULT_RATE_LIMIT;
    a = await testServer({ redisCluster, rateLimit, instanceId: `migration-${pubsub}-a` });
    b = await testServer({ redisCluster, rateLimit, instanceId: `migration-${pubsub}-b` });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('moves a live user to another primary without leaving a subscriber behind', async () => {
    const ranges = await cluster.slotRanges();
    const source = ranges[0]?.port ?? 0;
    const target = ranges.find((range) => range.port !== source)?.port ?? 0;
    const userId = userOwnedBy(ranges, `migrating-${pubsub}`, source);
    const token = await tokenFor(userId);
    const { stateKey } = stateScope('acme', userId);
    const slot = String(keySlot(stateKey));
    const watchers = [await ready(a, token), await ready(b, token)];
    // Save, delete, save: the state, its revision counter and the user's rate-limit bucket
    // exist (a save touches all three keys, and during a migration Redis runs it on the
    // target only once all of them moved).
    expect((await saveAt(a, token, T0)).status).toBe(200);
    expect((await api(a, 'DELETE', PATH, { token })).status).toBe(204);
    expect((await saveAt(a, token, T0)).status).toBe(200);
    for (const socket of watchers) await socket.next('state', (m) => m.revision === 3);

    const [sourceId, targetId] = await Promise.all([
      cluster.nodeId(source),
      cluster.nodeId(target),
    ]);
    await cluster.cli(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId], target);
    await cluster.cli(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId], source);
    const keys = (await cluster.cli(['CLUSTER', 'GETKEYSINSLOT', slot, '100'], source))
      .split('\n')
      .filter(Boolean);
    const { revisionKey, userBucketKey } = stateScope('acme', userId);
    expect(keys.sort()).toEqual([stateKey, revisionKey, userBucketKey].sort());
    await cluster.cli(
      ['MIGRATE', '127.0.0.1', String(target), '', '0', '5000', 'KEYS', ...keys],
      source,
    );
    // The keys are on the target, the slot still the source's: this save is redirected
    // (ASK) and publishes on the target, where no instance subscribes yet. Sharded, that
    // message reaches nobody; only the catch-up after the hand-over brings it.
    // The client follows the ASK redirection (both keys moved, so the script runs there):
    // the save succeeds as revision 4, and no subscriber may miss it.
    const during = await saveAt(b, token, T0 + 1);
    expect(during.status).toBe(200);
    expect(field(during.body, 'revision')).toBe(4);
    for (const port of [target, source]) {
      await cluster.cli(['CLUSTER', 'SETSLOT', slot, 'NODE', targetId], port);
    }
    for (const range of ranges) {
      if (range.port !== target && range.port !== source) {
        await cluster.cli(['CLUSTER', 'SETSLOT', slot, 'NODE', targetId], range.port);
      }
    }
    const newest = 4;
    for (const socket of watchers) {
      await waitFor(() => socket.lastChangeRevision() === newest, {
        timeoutMs: 20_000,
        what: `a subscriber to reach revision ${newest} after the hand-over`,
      });
    }
    // Saves after the move land on the new owner and reach everyone.
    const after = await saveAt(a, token, T0 + 2);
    expect(after.status).toBe(200);
    expect(field(after.body, 'revision')).toBe(newest + 1);
    for (const socket of watchers) {
      await waitFor(() => socket.lastChangeRevision() === newest + 1, {
        timeoutMs: 20_000,
        what: 'a subscriber to get the first save after the move',
      });
    }
    expect(await cluster.primaryPortOf(stateKey)).toBe(target);
  }, 60_000);
});

describe('classic pub/sub on the cluster', () => {
  it('catches a socket up after the subscriber connection alone was cut, telling it the store was down', async () => {
    const server = await testServer({
      redisCluster: { nodes: cluster.seeds, pubsub: 'classic' },
      instanceId: 'classic-cut',
    });
    const userId = 'classic-cut-user';
    const token = await tokenFor(userId);
    const { stateKey, channel } = stateScope('acme', userId);
    const socket = await ready(server, token);
    expect((await saveAt(server, token, T0)).status).toBe(200);
    await socket.next('state', (m) => m.revision === 1);

    // The one classic subscriber connection of the instance, wherever it is.
    const found = await Promise.all(
      cluster.nodes.map(async (node) => {
        const list = await cluster.cli(['CLIENT', 'LIST'], node.port);
        const line = list.split('\n').find((entry) => entry.includes('name=hyvve:classic-cut:sub'));
        return line ? { port: node.port, id: /\bid=(\d+)/.exec(line)?.[1] ?? '' } : null;
      }),
    );
    const subscriber = found.find((entry) => entry !== null);
    if (!subscriber) throw new Error('no subscriber connection found');
    await cluster.cli(['CLIENT', 'KILL', 'ID', subscriber.id], subscriber.port);
    // Published while the instance is reconnecting (it waits at least 100 ms): lost for
    // it, so only the catch-up after its re-subscription brings revision 2.
    const message = stateMessageText(
      JSON.stringify(makeState({ timestamp: T0 + 1 })),
      2,
      Date.now(),
      'agent',
      T0 + 1,
    );
    const owner = await cluster.primaryPortOf(stateKey);
    await cluster.cli(['SET', stateKey, message, 'EX', '600'], owner);
    await cluster.cli(['PUBLISH', channel, message], owner);
    await waitFor(() => socket.lastChangeRevision() === 2, {
      timeoutMs: 10_000,
      what: 'the socket to catch up to revision 2',
    });
    // The instance lost its subscriber, so changes could be missed: down, then up once it
    // subscribed again (on whichever node) and caught up. (Status is sent at once, the
    // caught-up state through the socket's coalesced outbox: their order on the wire is free.)
    await socket.next('status', (m) => m.store === 'up', { timeoutMs: 10_000 });
    const statuses = socket.messages.flatMap((m) => (m.type === 'status' ? [m.store] : []));
    expect(statuses).toEqual(['down', 'up']);
  });
});
