// `patch` messages for subscribers that ask for them (`?patches=1`): the first change
// whole, then RFC 6902 patches against the previous revision that rebuild each saved
// state exactly; full `state` messages whenever a patch would not pay (oversized, no
// base, after a delete, a diff that fails) and for every socket that did not ask.
import { applyStatePatch, type DashboardState, type ServerMessage } from '@hyvve/schema';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { createChannelEvent, stateMessageText } from '../src/channel/channel-event.js';
import type { RunningServer } from '../src/index.js';
import type { Logger } from '../src/logger.js';
import { patchFrame, patchPayload } from '../src/socket/fan-out/patch-frame.js';
import { channelFrame } from '../src/socket/fan-out/ws-frame.js';
import { api, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const channelOf = (user: string) => `dashboard:state:channel:{acme:${user}}`;
const T0 = 1_700_000_000_000;
let redis: TestRedis;
let publisher: Redis;
let memory: RunningServer;
let a: RunningServer;
let b: RunningServer;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  publisher = new Redis(redis.url);
  publisher.on('error', () => {});
  memory = await testServer();
  a = await testServer({ redisUrl: redis.url, instanceId: 'patches-a' });
  b = await testServer({ redisUrl: redis.url, instanceId: 'patches-b' });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  publisher.disconnect();
  await Promise.all([memory.close(), a.close(), b.close()]);
  await redis.close();
});

let n = 0;
const newUser = () => `patch-user-${++n}`;

async function subscriber(server: RunningServer, token: string, query = '') {
  const { socket } = await TestSocket.ready(`${wsUrl(server)}${query}`, token);
  sockets.push(socket);
  return socket;
}

async function save(server: RunningServer, token: string, state: DashboardState): Promise<void> {
  const response = await api(server, 'POST', PATH, { token, body: { state } });
  expect(response.status).toBe(200);
}

/** `state` one second later with one metric's value changed: a typical widget update. */
function changeOneMetric(state: DashboardState, value: number): DashboardState {
  const next = structuredClone(state);
  next.timestamp += 1000;
  const metric = next.widgets.metrics?.metrics[0];
  if (!metric) throw new Error('fixture state has no metric');
  metric.value = value;
  return next;
}

type Change = Extract<ServerMessage, { type: 'state' | 'patch' | 'deleted' }>;

const isChange = (message: ServerMessage): message is Change =>
  message.type === 'state' || message.type === 'patch' || message.type === 'deleted';

/** The change a socket received for `revision`, whichever form it took. */
function changeAt(socket: TestSocket, revision: number): Promise<Change> {
  return waitFor(() => socket.messages.filter(isChange).find((m) => m.revision === revision), {
    what: `the change at revision ${revision}`,
  });
}

/**
 * A new user with a `?patches=1` socket on instance `a` that has received the user's first
 * state (revision 1), so the next change can reach it as a patch.
 */
async function patchSocketAtFirstState() {
  const user = newUser();
  const token = await tokenFor(user);
  const patched = await subscriber(a, token, '?patches=1');
  const state = makeState({ timestamp: T0 });
  await save(a, token, state);
  // Delivered before the next change, so latest-wins delivery cannot fold the two.
  await changeAt(patched, 1);
  return { user, token, patched, state };
}

/** Publishes, as a saver would, a `patch` message with these fields and operations. */
function publishPatch(user: string, revision: number, baseRevision: number, operations: unknown) {
  return publisher.publish(
    channelOf(user),
    `{"type":"patch","revision":${revision},"baseRevision":${baseRevision},"savedAt":${T0},"origin":"agent","patch":${JSON.stringify(operations)}}`,
  );
}

/** The saved state at `revision` as a plain socket received it. */
async function fullStateAt(socket: TestSocket, revision: number): Promise<unknown> {
  return (await socket.next('state', (m) => m.revision === revision)).state;
}

describe.each([
  ['memory store', () => memory, () => memory],
  ['Redis, one instance', () => a, () => a],
  ['Redis, saves through another instance', () => a, () => b],
])('%s', (_name, watched, saving) => {
  it('sends the first change whole, then patches that rebuild each saved state', async () => {
    const token = await tokenFor(newUser());
    const patched = await subscriber(watched(), token, '?patches=1');
    const plain = await subscriber(watched(), token);
    let state = makeState({ timestamp: T0, alerts: 10, activities: 20 });
    await save(saving(), token, state);
    const first = await changeAt(patched, 1);
    expect(first.type).toBe('state');
    let held: unknown = first.type === 'state' ? first.state : undefined;

    for (let revision = 2; revision <= 4; revision++) {
      state = changeOneMetric(state, revision * 100);
      await save(saving(), token, state);
      const change = await changeAt(patched, revision);
      if (change.type !== 'patch') throw new Error(`expected a patch, got ${change.type}`);
      expect(change.baseRevision).toBe(revision - 1);
      expect(change.origin).toBe('http');
      held = applyStatePatch(held, change.patch);
      expect(held).toEqual(await fullStateAt(plain, revision));
    }
    const stored = await api(watched(), 'GET', PATH, { token });
    expect(held).toEqual((stored.body as { state: unknown }).state);
    // The plain socket on the same channel got full states only, the patch socket a few
    // hundred bytes per change.
    expect(plain.messages.filter(isChange).map((m) => m.type)).toEqual([
      'state',
      'state',
      'state',
      'state',
    ]);
    // Besides a second ready: it joined before the first save created the user's counter.
    await plain.next('ready', (m) => m.epoch !== '', { timeoutMs: 10_000 });
    expect(plain.messages.filter((m) => m.type === 'ready')).toHaveLength(2);
    const patchTexts = patched.texts.filter((text) => text.startsWith('{"type":"patch"'));
    expect(patchTexts).toHaveLength(3);
    for (const text of patchTexts) expect(text.length).toBeLessThan(400);
  });

  it('sends a change whose patch is over half the state whole', async () => {
    const token = await tokenFor(newUser());
    const patched = await subscriber(watched(), token, '?patches=1');
    const state = makeState({ timestamp: T0, alerts: 50 });
    await save(saving(), token, state);
    // Delivered before the next save, so latest-wins delivery cannot fold the two.
    await changeAt(patched, 1);
    const small = changeOneMetric(state, 1);
    await save(saving(), token, small);
    expect((await changeAt(patched, 2)).type).toBe('patch');
    // Every alert retitled and dismissed: a patch of ~70 % of the state's size.
    const rewritten = structuredClone(small);
    rewritten.timestamp += 1000;
    rewritten.widgets.alerts = rewritten.widgets.alerts.map((alert) => ({
      ...alert,
      title: `${alert.title} (seen)`,
      dismissed: true,
    }));
    await save(saving(), token, rewritten);
    const change = await changeAt(patched, 3);
    expect(change.type).toBe('state');
    expect(change.type === 'state' ? change.state : undefined).toEqual(rewritten);
  });

  it('sends the first save after a delete whole', async () => {
    const token = await tokenFor(newUser());
    const patched = await subscriber(watched(), token, '?patches=1');
    const state = makeState({ timestamp: T0 });
    await save(saving(), token, state);
    // Delivered before the next save, so latest-wins delivery cannot fold the two.
    await changeAt(patched, 1);
    await save(saving(), token, changeOneMetric(state, 7));
    expect((await changeAt(patched, 2)).type).toBe('patch');
    expect((await api(saving(), 'DELETE', PATH, { token })).status).toBe(204);
    expect((await changeAt(patched, 3)).type).toBe('deleted');
    const after = changeOneMetric(changeOneMetric(state, 7), 8);
    await save(saving(), token, after);
    const change = await changeAt(patched, 4);
    expect(change.type).toBe('state');
    expect(change.type === 'state' ? change.state : undefined).toEqual(after);
  });
});

describe('two instances on one Redis', () => {
  /** Every message published on `user`'s channel, as Redis delivered it. */
  async function channelTap(user: string) {
    const tap = new Redis(redis.url);
    tap.on('error', () => {});
    const texts: string[] = [];
    tap.on('message', (_channel: string, text: string) => texts.push(text));
    await tap.subscribe(channelOf(user));
    return { texts, close: () => tap.disconnect() };
  }

  it('the saver publishes its patch once, and both rebuild every saved state from it', async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const tap = await channelTap(user);
    const onA = await subscriber(a, token, '?patches=1');
    const onB = await subscriber(b, token, '?patches=1');
    let state = makeState({ timestamp: T0, alerts: 20 });
    await save(b, token, state);
    const held = new Map<TestSocket, unknown>();
    for (const socket of [onA, onB]) {
      const first = await changeAt(socket, 1);
      held.set(socket, first.type === 'state' ? first.state : undefined);
    }
    for (let revision = 2; revision <= 5; revision++) {
      state = changeOneMetric(state, revision);
      await save(revision % 2 === 0 ? a : b, token, state);
      for (const socket of [onA, onB]) {
        const change = await changeAt(socket, revision);
        if (change.type !== 'patch') throw new Error(`expected a patch, got ${change.type}`);
        expect(change.baseRevision).toBe(revision - 1);
        const rebuilt = applyStatePatch(held.get(socket), change.patch);
        expect(rebuilt).toEqual(state);
        held.set(socket, rebuilt);
      }
    }
    // Each save after the first went out as its saver's patch, then the state itself.
    await waitFor(() => tap.texts.length >= 9 || undefined, { what: 'nine channel messages' });
    tap.close();
    const published = tap.texts.map((text) => JSON.parse(text));
    expect(published.map((m) => `${m.type}:${m.revision}`)).toEqual([
      'state:1',
      ...[2, 3, 4, 5].flatMap((revision) => [`patch:${revision}`, `state:${revision}`]),
    ]);
    for (let i = 1; i < published.length; i += 2) {
      expect(published[i]).toMatchObject({
        baseRevision: published[i].revision - 1,
        savedAt: published[i + 1].savedAt,
        origin: 'http',
      });
      expect(applyStatePatch(published[i - 1].state, published[i].patch)).toEqual(
        published[i + 1].state,
      );
    }
  });

  it('forwards a published patch that starts at its base as is, without diffing', async () => {
    const { user, patched, state } = await patchSocketAtFirstState();
    // A patch that is not the diff of the two states: only forwarding can deliver it.
    const marker = [{ op: 'replace', path: '/activeProject', value: 'from-the-saver' }];
    const next = JSON.stringify(changeOneMetric(state, 7));
    await publishPatch(user, 2, 1, marker);
    await publisher.publish(channelOf(user), stateMessageText(next, 2, T0, 'agent'));
    expect(await changeAt(patched, 2)).toMatchObject({ type: 'patch', patch: marker });
  });

  it.each([
    ['starts at another base', 2, 3, 1],
    ['belongs to another revision', 3, 2, 1],
  ])(
    'diffs for itself when the published patch %s',
    async (_name, hintRevision, stateRevision, hintBase) => {
      const { user, token, patched, state } = await patchSocketAtFirstState();
      let base = state;
      if (stateRevision === 3) {
        base = changeOneMetric(state, 2);
        await save(a, token, base);
        await changeAt(patched, 2);
      }
      const marker = [{ op: 'replace', path: '/activeProject', value: 'from-the-saver' }];
      const next = changeOneMetric(state, 9);
      await publishPatch(user, hintRevision, hintBase, marker);
      await publisher.publish(
        channelOf(user),
        stateMessageText(JSON.stringify(next), stateRevision, T0, 'agent'),
      );
      const change = await changeAt(patched, stateRevision);
      if (change.type !== 'patch') throw new Error(`expected a patch, got ${change.type}`);
      expect(change.baseRevision).toBe(stateRevision - 1);
      expect(change.patch).not.toEqual(marker);
      expect(applyStatePatch(base, change.patch)).toEqual(next);
    },
  );
});

describe('a malformed published patch', () => {
  it('is ignored: the state after it arrives as its own diff', async () => {
    const { user, patched, state } = await patchSocketAtFirstState();
    const next = changeOneMetric(state, 4);
    await publisher.publish(channelOf(user), '{"type":"patch","revision":2,"baseRevision":"1"}');
    await publisher.publish(channelOf(user), stateMessageText(JSON.stringify(next), 2, T0, 'x'));
    const change = await changeAt(patched, 2);
    if (change.type !== 'patch') throw new Error(`expected a patch, got ${change.type}`);
    expect(applyStatePatch(state, change.patch)).toEqual(next);
  });
});

describe('sockets that did not ask for patches', () => {
  it.each([
    ['no query', ''],
    ['?patches=0', '?patches=0'],
    ['?patches=true', '?patches=true'],
    ['?patches twice', '?patches=1&patches=1'],
  ])('get full state messages (%s)', async (_name, query) => {
    const token = await tokenFor(newUser());
    const socket = await subscriber(memory, token, query);
    const patched = await subscriber(memory, token, '?patches=1');
    const state = makeState({ timestamp: T0 });
    await save(memory, token, state);
    // Delivered before the next save, so latest-wins delivery cannot fold the two.
    await changeAt(patched, 1);
    await socket.next('state', (m) => m.revision === 1);
    await save(memory, token, changeOneMetric(state, 3));
    // The patch socket proves a patch was there to send.
    expect((await changeAt(patched, 2)).type).toBe('patch');
    await socket.next('state', (m) => m.revision === 2);
    expect(socket.messages.filter(isChange).map((m) => m.type)).toEqual(['state', 'state']);
  });
});

describe('a diff that fails', () => {
  it('still delivers the change, whole', async () => {
    const { user, token, patched, state } = await patchSocketAtFirstState();
    await save(a, token, changeOneMetric(state, 5));
    expect((await changeAt(patched, 2)).type).toBe('patch');
    // A foreign publisher's message whose state is not an object: the diff throws.
    const foreign = stateMessageText('null', 3, T0, 'agent');
    expect(await publisher.publish(channelOf(user), foreign)).toBe(1);
    expect(await changeAt(patched, 3)).toMatchObject({
      type: 'state',
      state: null,
      origin: 'agent',
    });
  });
});

describe('patch frames', () => {
  function recordingLogger() {
    const warnings: Array<{ context: object; message: string }> = [];
    const ignore = () => {};
    const logger: Logger = {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: (context, message) => warnings.push({ context, message }),
    };
    return { logger, warnings };
  }

  const stateEvent = (revision: number, stateJson: string) =>
    createChannelEvent('state', revision, stateMessageText(stateJson, revision, T0, 'test'));

  it('builds a patch once per event and hands every socket the same payload and frame', () => {
    const { logger } = recordingLogger();
    const base = stateEvent(1, JSON.stringify(makeState({ timestamp: T0 })));
    const event = stateEvent(2, JSON.stringify(changeOneMetric(makeState({ timestamp: T0 }), 9)));
    event.base = base;
    const context = { logger, channel: 'c' };
    const payload = patchPayload(event, context);
    expect(patchPayload(event, context)).toBe(payload);
    expect(JSON.parse(payload.toString('utf8'))).toMatchObject({
      type: 'patch',
      revision: 2,
      baseRevision: 1,
      savedAt: T0,
      origin: 'test',
    });
    const frame = patchFrame(event, context);
    expect(patchFrame(event, context)).toBe(frame);
    expect(frame.subarray(frame.length - payload.length).equals(payload)).toBe(true);
  });

  it('falls back to the full message without a base', () => {
    const { logger } = recordingLogger();
    const event = stateEvent(1, JSON.stringify(makeState({ timestamp: T0 })));
    const context = { logger, channel: 'c' };
    expect(patchPayload(event, context)).toBe(event.bytes());
    expect(patchFrame(event, context)).toBe(channelFrame(event));
    // The socket will want the next change as a patch against this one.
    expect(event.keepAsBase).toBe(true);
  });

  it.each([
    ['the new state', JSON.stringify(makeState({ timestamp: T0 })), 'null'],
    ['its base', 'null', JSON.stringify(makeState({ timestamp: T0 }))],
  ])(
    'logs a diff that fails on %s at warn, once, and sends the full message',
    (_name, before, after) => {
      const { logger, warnings } = recordingLogger();
      const event = stateEvent(4, after);
      event.base = stateEvent(3, before);
      const context = { logger, channel: 'dashboard:state:channel:acme:u' };
      expect(patchPayload(event, context)).toBe(event.bytes());
      expect(patchFrame(event, context)).toBe(channelFrame(event));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.context).toMatchObject({
        channel: 'dashboard:state:channel:acme:u',
        revision: 4,
        baseRevision: 3,
      });
    },
  );
});
