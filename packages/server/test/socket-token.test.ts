// A socket lives by its token: closed with 4401 at exp, renewed in-band with a token of
// the same user and workspace (ready again, subscription kept), closed with 4403 for a
// token of anyone else; saves after exp are refused with 401 first.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import type { Identity } from '../src/auth/token.js';
import { type RunningServer, stateScope } from '../src/index.js';
import { SocketTokenLifetime } from '../src/socket/socket-token-lifetime.js';
import { api, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
let server: RunningServer;
const sockets: TestSocket[] = [];
let count = 0;
const newUser = () => `tok-${++count}`;

beforeAll(async () => {
  server = await testServer();
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function ready(token: string, via: 'header' | 'message' = 'message') {
  const opened = await TestSocket.ready(wsUrl(server), token, via);
  sockets.push(opened.socket);
  return opened.socket;
}

/** `exp` of a token, in ms. */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
  return payload.exp * 1000;
}

describe('socket token lifetime', () => {
  it('closes the socket with 4401 when its token expires', async () => {
    const token = await tokenFor(newUser(), 'acme', undefined, 2);
    const socket = await ready(token);
    const closed = await socket.waitClosed(10_000);
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiryOf(token) - 50);
  });

  it('refuses a save sent after exp with 401 before the late expiry timer closes the socket', async () => {
    // A busy event loop fires the expiry timer late: the socket's clock is past `exp` while
    // its timer (real time, 10 min away) has not fired. The save must be refused first.
    // The socket reads Date.now as it was when it opened: shift it from before then.
    const realNow = Date.now.bind(Date);
    let shiftMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + shiftMs);
    const user = newUser();
    const token = await tokenFor(user, 'acme', undefined, 600);
    const socket = await ready(token, 'header');
    shiftMs = expiryOf(token) + 1000 - realNow();
    socket.send({ type: 'save', id: 'late', state: makeState({ timestamp: realNow() }) });
    const closed = await socket.waitClosed();
    shiftMs = 0;
    expect(socket.messages.map((m) => m.type)).toEqual(['ready', 'error']);
    expect(socket.messages[1]).toMatchObject({
      type: 'error',
      id: 'late',
      status: 401,
      error: 'unauthorized',
    });
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    // Nothing was stored from it.
    const stored = await api(server, 'GET', PATH, { token: await tokenFor(user) });
    expect(stored.status).toBe(404);
  });

  it('keeps a renewed socket working past the old expiry, on the same subscription', async () => {
    const user = newUser();
    const short = await tokenFor(user, 'acme', undefined, 2);
    const socket = await ready(short);
    const long = await tokenFor(user, 'acme', undefined, 600);
    socket.send({ type: 'auth', token: long });
    const renewed = await socket.next('ready', () => true, { from: 1 });
    // The same store epoch: the client has nothing to reconcile.
    expect(renewed.epoch).toBe(
      socket.messages[0]?.type === 'ready' ? socket.messages[0].epoch : 'x',
    );
    expect(renewed.epoch).toBeDefined();
    await waitFor(() => Date.now() > expiryOf(short) + 500, {
      timeoutMs: 10_000,
      what: 'the first token to expire',
    });
    expect(socket.closed).toBeUndefined();
    // The subscription is kept: a change made elsewhere still arrives, and saves work.
    await api(server, 'POST', PATH, { token: long, body: { state: makeState() } });
    await socket.next('state');
    socket.send({ type: 'save', id: 'after', state: makeState({ timestamp: Date.now() + 1000 }) });
    await socket.next('saved', (m) => m.id === 'after');
  });

  it('closes with 4403 when a renewal brings another user or workspace, and hears nothing of theirs', async () => {
    const user = newUser();
    const socket = await ready(await tokenFor(user));
    socket.send({ type: 'auth', token: await tokenFor(newUser()) });
    expect((await socket.waitClosed()).code).toBe(4403);
    const again = await ready(await tokenFor(user));
    again.send({ type: 'auth', token: await tokenFor(user, 'other-co') });
    expect((await again.waitClosed()).code).toBe(4403);
  });

  it('answers a renewal with a bad token 401 and keeps the socket on its token', async () => {
    const token = await tokenFor(newUser());
    const socket = await ready(token, 'header');
    socket.send({
      type: 'auth',
      token: await tokenFor('x', 'acme', 'wrong-secret-wrong-secret-0123'),
    });
    const error = await socket.next('error');
    expect(error).toMatchObject({ status: 401, error: 'unauthorized' });
    socket.send({ type: 'save', id: 's', state: makeState() });
    await socket.next('saved', (m) => m.id === 's');
  });
});

describe('SocketTokenLifetime', () => {
  const identity = (user: string, expiresAt: number, workspace = 'acme'): Identity => ({
    workspaceId: workspace,
    userId: user,
    scope: stateScope(workspace, user),
    expiresAt,
  });

  it('reports expiry by the clock even before its timer fired, and refuses other owners', () => {
    let now = 1_000;
    let expired = 0;
    const lifetime = new SocketTokenLifetime(
      () => {
        expired += 1;
      },
      () => now,
    );
    expect(lifetime.expired).toBe(false);
    lifetime.follow(identity('alice', 60_000));
    now = 60_000;
    expect(lifetime.expired).toBe(true);
    expect(lifetime.renew(identity('bob', 120_000))).toBe('other-owner');
    expect(lifetime.renew(identity('alice', 120_000, 'other-co'))).toBe('other-owner');
    expect(lifetime.renew(identity('alice', 120_000))).toBe('renewed');
    expect(lifetime.expired).toBe(false);
    lifetime.stop();
    // A token already expired when followed closes at once.
    lifetime.follow(identity('alice', 10));
    expect(expired).toBe(1);
  });

  it('expires at exp exactly, renews a socket that had no token yet, and arms nothing for a token without exp', () => {
    vi.useFakeTimers({ now: 1_000 });
    try {
      let expired = 0;
      const lifetime = new SocketTokenLifetime(() => {
        expired += 1;
      });
      expect(lifetime.renew(identity('alice', 5_000))).toBe('renewed');
      expect(lifetime.current?.userId).toBe('alice');
      lifetime.stop();
      vi.advanceTimersByTime(10_000);
      expect(expired).toBe(0);

      lifetime.follow(identity('alice', Date.now()));
      expect(expired).toBe(1);

      lifetime.follow(identity('alice', Number.POSITIVE_INFINITY));
      expect(vi.getTimerCount()).toBe(0);
      expect(lifetime.expired).toBe(false);

      lifetime.follow(identity('alice', Date.now() + 2_000));
      vi.advanceTimersByTime(1_999);
      expect(expired).toBe(1);
      vi.advanceTimersByTime(1);
      expect(expired).toBe(2);
      lifetime.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
