// Several stateless instances on one Redis: fan-out across instances, one Redis
// subscription per channel per instance, and revisions that stay unique and ordered
// under concurrent saves from many clients.
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
let client: Redis;
let a: RunningServer;
let b: RunningServer;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  client.on('error', () => {});
  a = await testServer({ redisUrl: redis.url, instanceId: 'multi-a' });
  b = await testServer({ redisUrl: redis.url, instanceId: 'multi-b' });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  client.disconnect();
  await redis.close();
});

async function ready(server: RunningServer, token: string) {
  const { socket, revision } = await TestSocket.ready(wsUrl(server), token);
  sockets.push(socket);
  return { socket, revision };
}

async function numsub(channel: string): Promise<number> {
  const reply = await client.pubsub('NUMSUB', channel);
  return Number(Array.isArray(reply) ? reply[1] : 0);
}

describe('two instances on one Redis', () => {
  it('delivers to a WebSocket on instance A a save made through instance B', async () => {
    const token = await tokenFor('cross-1');
    const { socket } = await ready(a, token);
    const state = makeState({ alerts: 7 });
    await api(b, 'POST', PATH, { token, body: { state } });
    expect(await socket.next('state')).toMatchObject({ state, revision: 1, origin: 'http' });
  });

  it('delivers a socket save on B to sockets on A and B, and a delete on A to both', async () => {
    const token = await tokenFor('cross-2');
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
    const token = await tokenFor('shared-channel');
    const channel = 'dashboard:state:channel:acme:shared-channel';
    const onA = await Promise.all([ready(a, token), ready(a, token), ready(a, token)]);
    expect(await numsub(channel)).toBe(1);
    const onB = await ready(b, token);
    expect(await numsub(channel)).toBe(2);
    for (const { socket } of onA) socket.close();
    onB.socket.close();
    await waitFor(async () => (await numsub(channel)) === 0, {
      what: 'both instances to leave the channel',
    });
  });
});

describe('concurrent saves from many clients', () => {
  it('hands out each revision once, in order, and keeps the newest state', async () => {
    const token = await tokenFor('concurrent');
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
