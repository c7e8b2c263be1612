// Redis going away and coming back under a running server: saves answer 503 and the
// process stays up; after Redis returns the same process serves again and its
// subscribers hear changes again, including the ones made while they were cut off.
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { CloseCode, type RunningServer } from '../src/index.js';
import { api, field, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { setUpTwoInstances } from './support/two-instances.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
const instances = setUpTwoInstances('fault');
const { sockets } = instances;
let a: RunningServer;
let b: RunningServer;
beforeAll(() => {
  ({ a, b } = instances);
});

async function ready(server: RunningServer, token: string) {
  const { socket, revision } = await TestSocket.ready(wsUrl(server), token);
  sockets.push(socket);
  return { socket, revision };
}

async function untilReady(server: RunningServer): Promise<void> {
  await waitFor(async () => (await api(server, 'GET', '/readyz')).status === 200, {
    timeoutMs: 10_000,
    intervalMs: 50,
    what: 'the server to see Redis again',
  });
}

describe('Redis killed and restarted on the same port', () => {
  it('answers 503 while Redis is down, stays up, and recovers without a restart', async () => {
    const token = await tokenFor('outage');
    const { socket } = await ready(a, token);
    await api(a, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 1 }) } });
    await socket.next('state', (m) => m.revision === 1);

    await instances.redis.stop();
    try {
      const started = Date.now();
      const save = await api(a, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + 2 }) },
      });
      expect(save.status).toBe(503);
      expect(field(save.body, 'error')).toBe('store_unavailable');
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await api(a, 'GET', PATH, { token })).status).toBe(503);
      expect((await api(a, 'DELETE', PATH, { token })).status).toBe(503);
      expect((await api(a, 'GET', '/readyz')).status).toBe(503);
      expect((await api(a, 'GET', '/healthz')).status).toBe(200);
      // A socket saving while Redis is down gets the same answer.
      socket.send({ type: 'save', id: 'down', state: makeState({ timestamp: T0 + 3 }) });
      expect(await socket.next('error', (m) => m.id === 'down')).toMatchObject({
        status: 503,
        error: 'store_unavailable',
      });
      socket.send({ type: 'delete', id: 'down-delete' });
      expect(await socket.next('error', (m) => m.id === 'down-delete')).toMatchObject({
        status: 503,
      });
      // A subscriber whose channel this instance does not hold yet is told to come back later.
      const late = await TestSocket.open(wsUrl(a), { token: await tokenFor('outage-late') });
      sockets.push(late);
      expect((await late.waitClosed()).code).toBe(CloseCode.tryAgainLater);
      expect(late.messages[0]).toMatchObject({ type: 'error', status: 503 });
      // Another tab of a user whose channel is held joins it at the last known revision.
      const { revision: joinedAt } = await ready(a, token);
      expect(joinedAt).toBe(1);
    } finally {
      await instances.redis.start();
    }
    await untilReady(a);
    const marker = 'after-restart';
    const again = await api(a, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 4, activeProject: marker }) },
    });
    expect(again.status).toBe(200);
    // The socket opened before the outage hears the new state (Redis restarted empty,
    // so revisions start over; the content is what matters here).
    for (const tab of sockets.filter((candidate) => candidate.closed === undefined)) {
      const heard = await tab.next('state', (m) => m.state.activeProject === marker, {
        timeoutMs: 10_000,
      });
      expect(heard.revision).toBe(field(again.body, 'revision'));
    }
    expect(socket.closed).toBeUndefined();
  });
});

describe('store status on the sockets', () => {
  it('tells every socket "down" within a second of losing Redis, and "up" once it is back and caught up', async () => {
    await untilReady(a);
    await untilReady(b);
    // Caught up with the restart of the test before, so the sockets below start at `up`.
    await waitFor(() => a.service.storeStatus() === 'up' && b.service.storeStatus() === 'up', {
      timeoutMs: 10_000,
      what: 'both instances to be caught up',
    });
    const token = await tokenFor('status-user');
    const { socket: onA } = await ready(a, token);
    const { socket: onB } = await ready(b, await tokenFor('status-other'));
    await api(a, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 1 }) } });
    await onA.next('state', (m) => m.revision === 1);

    await instances.redis.stop();
    try {
      // The server sees the connections close at once; a second is the promise.
      for (const socket of [onA, onB]) {
        await socket.next('status', (m) => m.store === 'down', { timeoutMs: 1000 });
      }
      // A tab joining a held channel while Redis is down hears it right after `ready`.
      const { socket: late } = await ready(a, token);
      expect(late.messages.map((m) => m.type)).toEqual(['ready', 'status']);
      expect(late.messages[1]).toEqual({ type: 'status', store: 'down' });
    } finally {
      await instances.redis.start();
    }
    const open = sockets.filter((socket) => socket.closed === undefined);
    for (const socket of open) {
      await socket.next('status', (m) => m.store === 'up', { timeoutMs: 15_000 });
      const statuses = socket.messages.flatMap((m) => (m.type === 'status' ? [m.store] : []));
      expect(statuses).toEqual(['down', 'up']);
    }
    // Redis came back empty: the sockets of the held channel were told to start over
    // before `up`, and hear the next save.
    const reset = await onA.next('ready', (m) => m.revision === 0, { timeoutMs: 5000 });
    const up = await onA.next('status', (m) => m.store === 'up');
    expect(onA.messages.indexOf(reset)).toBeLessThan(onA.messages.indexOf(up));
    await api(a, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 2 }) } });
    await onA.next('state', (m) => m.revision === 1 && onA.messages.indexOf(m) > 2);
  });
});

describe("only instance A's Redis connections cut", () => {
  it("brings A's subscribers to the revision saved through B during the cut", async () => {
    await untilReady(a);
    await untilReady(b);
    const token = await tokenFor('cut-a');
    const { socket: onA } = await ready(a, token);
    await api(b, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 1 }) } });
    await onA.next('state', (m) => m.revision === 1);

    const admin = new Redis(instances.redis.url);
    admin.on('error', () => {});
    try {
      const list = String(await admin.client('LIST'));
      const ids = list
        .split('\n')
        .filter((line) => / name=hyvve:fault-a:/.test(line))
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      expect(ids).toHaveLength(2);
      for (const id of ids) await admin.client('KILL', 'ID', id);
      const saved = await api(b, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + 2, activeProject: 'saved-during-cut' }) },
      });
      expect(saved.status).toBe(200);
      const revision = field(saved.body, 'revision');
      await onA.next('state', (m) => m.revision === revision, { timeoutMs: 10_000 });
      expect(onA.lastChangeRevision()).toBe(revision);
    } finally {
      admin.disconnect();
    }
  });
});
