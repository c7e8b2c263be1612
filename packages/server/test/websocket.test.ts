// The subscribe WebSocket: authentication (header or first message, 5 s limit, 4401),
// `ready`, every change of the user's channel, saves and deletes over the socket with
// the HTTP status codes, malformed input, heartbeat and shutdown.
import { MAX_STATE_SIZE_BYTES } from '@hyvve/schema';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { CloseCode, type RunningServer, startServer } from '../src/index.js';
import { api, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let server: RunningServer;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  server = await testServer({ authTimeoutMs: 300 });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

let n = 0;
const newUser = () => `ws-user-${++n}`;

async function ready(token: string, via: 'header' | 'message' = 'header') {
  const opened = await TestSocket.ready(wsUrl(server), token, via);
  sockets.push(opened.socket);
  return opened;
}

async function open(options: { token?: string; autoPong?: boolean } = {}) {
  const socket = await TestSocket.open(wsUrl(server), options);
  sockets.push(socket);
  return socket;
}

describe('authentication', () => {
  it('accepts the upgrade Authorization header and says ready with revision 0', async () => {
    const { revision } = await ready(await tokenFor(newUser()));
    expect(revision).toBe(0);
  });

  it('accepts a first { type: "auth" } message, as browsers must send', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    const { revision } = await ready(token, 'message');
    expect(revision).toBe(1);
  });

  it('closes with 4401 when no auth message arrives in time', async () => {
    const socket = await open();
    expect((await socket.waitClosed()).code).toBe(CloseCode.unauthorized);
  });

  it('closes with 4401 for a bad token, by header or by message', async () => {
    const byHeader = await open({ token: 'garbage' });
    expect((await byHeader.waitClosed()).code).toBe(4401);
    const byMessage = await open();
    byMessage.send({
      type: 'auth',
      token: await tokenFor('x', 'acme', 'wrong-secret-wrong-secret-wrong'),
    });
    expect((await byMessage.waitClosed()).code).toBe(4401);
  });

  it('closes with 4401 when the first message is anything but auth', async () => {
    const notJson = await open();
    notJson.send('hello');
    expect((await notJson.waitClosed()).code).toBe(4401);
    const save = await open();
    save.send({ type: 'save', id: '1', state: makeState() });
    expect((await save.waitClosed()).code).toBe(4401);
  });
});

describe('change delivery', () => {
  it('delivers a save made over HTTP as { type: "state", state, revision, savedAt, origin }', async () => {
    const token = await tokenFor(newUser());
    const { socket } = await ready(token);
    const state = makeState({ alerts: 5 });
    const res = await api(server, 'POST', PATH, { token, body: { state, origin: 'tab-1' } });
    const message = await socket.next('state');
    expect(message).toEqual({
      type: 'state',
      state,
      revision: 1,
      savedAt: (res.body as { savedAt: number }).savedAt,
      timestamp: state.timestamp,
      origin: 'tab-1',
    });
  });

  it('delivers a delete as { type: "deleted", revision }', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    const { socket } = await ready(token);
    await api(server, 'DELETE', PATH, { token });
    expect(await socket.next('deleted')).toEqual({ type: 'deleted', revision: 2, origin: 'http' });
  });

  it("does not deliver another user's changes", async () => {
    const token = await tokenFor(newUser());
    const { socket } = await ready(token);
    await api(server, 'POST', PATH, {
      token: await tokenFor(newUser()),
      body: { state: makeState() },
    });
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    await socket.next('state');
    expect(socket.messages.filter((message) => message.type === 'state')).toHaveLength(1);
  });

  it('sends every change to every socket of the same user', async () => {
    const token = await tokenFor(newUser());
    const tabs = await Promise.all([ready(token), ready(token), ready(token, 'message')]);
    // Each change is awaited before the next: a reader that keeps up misses none (a change
    // only replaces an older one that is still waiting to be written).
    for (let i = 1; i <= 3; i++) {
      await api(server, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + i }) } });
      for (const { socket } of tabs) await socket.next('state', (m) => m.revision === i);
    }
    for (const { socket } of tabs) {
      const revisions = socket.messages.flatMap((m) => (m.type === 'state' ? [m.revision] : []));
      expect(revisions).toEqual([1, 2, 3]);
    }
  });
});

describe('saves and deletes over the socket', () => {
  it('answers saved with the revision, and other sockets receive the state', async () => {
    const token = await tokenFor(newUser());
    const { socket: writer } = await ready(token);
    const { socket: reader } = await ready(token);
    const state = makeState();
    writer.send({ type: 'save', id: 'req-1', state, origin: 'engine-w' });
    const saved = await writer.next('saved');
    expect(saved).toEqual({
      type: 'saved',
      id: 'req-1',
      revision: 1,
      savedAt: expect.any(Number),
      epoch: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    const received = await reader.next('state');
    expect(received).toMatchObject({ state, revision: 1, origin: 'engine-w' });
    expect((await api(server, 'GET', PATH, { token })).body).toMatchObject({ state, revision: 1 });
  });

  it('answers errors with the HTTP status codes: 400, 409, 412, 413', async () => {
    const token = await tokenFor(newUser());
    const { socket } = await ready(token);
    socket.send({ type: 'save', id: 'bad', state: { version: 1 } });
    expect(await socket.next('error', (m) => m.id === 'bad')).toMatchObject({
      status: 400,
      error: 'invalid_state',
    });
    socket.send({ type: 'save', id: 'first', state: makeState({ timestamp: T0 + 10 }) });
    await socket.next('saved', (m) => m.id === 'first');
    socket.send({ type: 'save', id: 'older', state: makeState({ timestamp: T0 }) });
    const conflict = await socket.next('error', (m) => m.id === 'older');
    expect(conflict).toMatchObject({ status: 409, error: 'conflict', current: { revision: 1 } });
    socket.send({
      type: 'save',
      id: 'stale',
      state: makeState({ timestamp: T0 + 20 }),
      baseRevision: 0,
    });
    expect(await socket.next('error', (m) => m.id === 'stale')).toMatchObject({
      status: 412,
      error: 'precondition_failed',
    });
    socket.send({
      type: 'save',
      id: 'big',
      state: makeState({ targetBytes: MAX_STATE_SIZE_BYTES + 10 }),
    });
    expect(await socket.next('error', (m) => m.id === 'big')).toMatchObject({
      status: 413,
      error: 'state_too_large',
    });
    socket.send({
      type: 'save',
      id: 'based',
      state: makeState({ timestamp: T0 + 30 }),
      baseRevision: 1,
    });
    expect(await socket.next('saved', (m) => m.id === 'based')).toMatchObject({ revision: 2 });
  });

  it('acknowledges a delete with its revision and tells the other sockets', async () => {
    const token = await tokenFor(newUser());
    const { socket: writer } = await ready(token);
    const { socket: reader } = await ready(token);
    writer.send({ type: 'save', id: 's', state: makeState() });
    await writer.next('saved');
    writer.send({ type: 'delete', id: 'd', origin: 'engine-w' });
    expect(await writer.next('delete-ack')).toEqual({
      type: 'delete-ack',
      id: 'd',
      revision: 2,
      epoch: (await writer.next('saved')).epoch,
    });
    expect(await reader.next('deleted')).toEqual({
      type: 'deleted',
      revision: 2,
      origin: 'engine-w',
    });
  });

  it('answers malformed messages with error 400 and keeps the socket open', async () => {
    const token = await tokenFor(newUser());
    const { socket } = await ready(token);
    socket.send('{not json');
    await socket.next('error', (m) => m.status === 400 && m.message.includes('JSON'));
    socket.send({ type: 'explode', id: 'x1' });
    expect(await socket.next('error', (m) => m.id === 'x1')).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    socket.send({ type: 'save', state: makeState() });
    await socket.next('error', (m) => m.message.includes('id'));
    socket.send({ type: 'auth', token: 'not-a-token' });
    await socket.next('error', (m) => m.status === 401);
    socket.send({ type: 'save', id: 'ok', state: makeState() });
    await socket.next('saved', (m) => m.id === 'ok');
    expect(socket.closed).toBeUndefined();
  });

  it('refuses a save with a __proto__ key as HTTP does, instead of storing it without the key', async () => {
    const token = await tokenFor(newUser());
    const { socket } = await ready(token);
    const state = JSON.stringify(makeState());
    const poisoned = state.replace('"errors":{}', '"errors":{"__proto__":"boom"}');
    expect(poisoned).not.toBe(state);
    const overHttp = await api(server, 'POST', PATH, { token, rawBody: `{"state":${poisoned}}` });
    expect(overHttp.status).toBe(400);
    socket.send(`{"type":"save","id":"p","state":${poisoned}}`);
    const refused = await socket.next('error');
    expect(refused).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(refused.message).toContain('__proto__');
    expect((await api(server, 'GET', PATH, { token })).status).toBe(404);
    // A state without the key is still taken on the same socket.
    socket.send(`{"type":"save","id":"ok","state":${state}}`);
    await socket.next('saved', (m) => m.id === 'ok');
  });

  it('answers 429 once the user saves faster than the limit, over HTTP and socket together', async () => {
    const limited = await testServer({ rateLimit: { savesPerSecond: 1, burst: 2 } });
    const token = await tokenFor(newUser());
    const { socket } = await TestSocket.ready(wsUrl(limited), token);
    sockets.push(socket);
    expect((await api(limited, 'POST', PATH, { token, body: { state: makeState() } })).status).toBe(
      200,
    );
    socket.send({ type: 'save', id: 'a', state: makeState() });
    await socket.next('saved', (m) => m.id === 'a');
    socket.send({ type: 'save', id: 'b', state: makeState() });
    const error = await socket.next('error', (m) => m.id === 'b');
    expect(error).toMatchObject({ status: 429, error: 'rate_limited' });
  });
});

describe('connection upkeep', () => {
  it('drops a socket that stops answering heartbeat pings', async () => {
    const beating = await testServer({ heartbeatIntervalMs: 50 });
    const token = await tokenFor(newUser());
    const silent = await TestSocket.open(wsUrl(beating), { token, autoPong: false });
    const healthy = await TestSocket.open(wsUrl(beating), { token });
    sockets.push(silent, healthy);
    // Not waiting for `ready`: on a busy machine two 50 ms ticks can pass before it.
    await silent.waitClosed();
    expect(silent.closed?.code).toBe(1006);
    await waitFor(() => healthy.pings >= 4, { what: 'several heartbeats' });
    expect(healthy.closed).toBeUndefined();
  });

  it('closes sockets with 1001 when the server shuts down', async () => {
    const closing = await testServer();
    const { socket } = await TestSocket.ready(wsUrl(closing), await tokenFor(newUser()));
    sockets.push(socket);
    await closing.close();
    await closing.close();
    expect((await socket.waitClosed()).code).toBe(CloseCode.goingAway);
  });

  // Big states, sent whole: a paused reader's kernel buffers (tens of MB at most on
  // loopback) fill well before SLOW_SAVES of them have been written.
  const SLOW_SAVES = 48;
  const big = (i: number) => makeState({ timestamp: T0 + i, targetBytes: 900_000 });
  const stateRevisions = (socket: TestSocket) =>
    socket.messages.flatMap((m) => (m.type === 'state' ? [m.revision] : []));

  it('gives a paused reader, once it reads again, the newest state: fewer messages, no disconnect', {
    timeout: 90_000,
  }, async () => {
    // Window 0: every save is written at once while the kernel takes it, so the reader's
    // buffers fill and later changes can only wait (and replace each other).
    const slow = await testServer({ coalesceWindowMs: 0 });
    const token = await tokenFor(newUser());
    const { socket: paused } = await TestSocket.ready(wsUrl(slow), token);
    sockets.push(paused);
    paused.ws.pause();
    for (let i = 1; i <= SLOW_SAVES; i++) {
      const res = await api(slow, 'POST', PATH, { token, body: { state: big(i) } });
      expect(res.status).toBe(200);
    }
    paused.ws.resume();
    await paused.next('state', (m) => m.revision === SLOW_SAVES, { timeoutMs: 60_000 });
    const revisions = stateRevisions(paused);
    // Some intermediate states were replaced by newer ones, never delivered out of order.
    expect(revisions.length).toBeLessThan(SLOW_SAVES);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(paused.closed).toBeUndefined();
    // The server counted what it replaced.
    const metrics = await (await fetch(slow.metricsUrl)).text();
    const conflated = /^hyvve_fanout_conflated_messages_total (\d+)/m.exec(metrics)?.[1];
    expect(Number(conflated)).toBeGreaterThan(0);
  });

  it('closes with 4408 a reader that drains nothing for the stall timeout; a healthy reader keeps up', {
    timeout: 90_000,
  }, async () => {
    const closes: { code: number; reason: string }[] = [];
    const watched = await testServer({
      coalesceWindowMs: 0,
      stallTimeoutMs: 1500,
      onSocketClose: (code, reason) => closes.push({ code, reason }),
    });
    const token = await tokenFor(newUser());
    const { socket: stalled } = await TestSocket.ready(wsUrl(watched), token);
    const { socket: reading } = await TestSocket.ready(wsUrl(watched), token);
    sockets.push(stalled, reading);
    stalled.ws.pause();
    let last = 0;
    // Saves go on until the server gives up on the stalled reader (bounded).
    for (let i = 1; i <= SLOW_SAVES && closes.length === 0; i++) {
      const res = await api(watched, 'POST', PATH, { token, body: { state: big(i) } });
      expect(res.status).toBe(200);
      last = i;
    }
    // Seen by the server: the reader stopped draining, so it closed it with 4408.
    await waitFor(() => closes.length > 0, { timeoutMs: 20_000, what: 'the stall close' });
    expect(closes).toEqual([{ code: CloseCode.stalled, reason: 'stalled' }]);
    const metrics = await (await fetch(watched.metricsUrl)).text();
    expect(metrics).toMatch(/^hyvve_websockets_dropped_total\{reason="stalled"\} 1$/m);
    await reading.next('state', (m) => m.revision === last, { timeoutMs: 20_000 });
    expect(reading.closed).toBeUndefined();
    // Reading again, the stalled client gets what was in flight, then the close code.
    stalled.ws.resume();
    expect((await stalled.waitClosed(30_000)).code).toBe(CloseCode.stalled);
  });

  it('refuses a stall timeout that is not a positive number', async () => {
    await expect(startServer({ logLevel: 'silent', stallTimeoutMs: 0 })).rejects.toThrow(
      'stallTimeoutMs must be a positive number',
    );
  });

  it('leaves the channel when the socket goes, keeping it for the sockets that stay', async () => {
    const token = await tokenFor(newUser());
    const { socket: leaving } = await ready(token);
    const { socket: staying } = await ready(token);
    leaving.close();
    await leaving.waitClosed();
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    await staying.next('state');
  });
});
