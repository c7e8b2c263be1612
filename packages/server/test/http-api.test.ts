// The HTTP contract (ARCHITECTURE.md, "HTTP and WebSocket API"), status code by status
// code, against a real server on a real Redis.
import { MAX_STATE_SIZE_BYTES } from '@hyvve/schema';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { RunningServer } from '../src/index.js';
import { api, field, TEST_SECRET, testServer, tokenFor } from './support/servers.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let redis: TestRedis;
let server: RunningServer;

beforeAll(async () => {
  redis = await startTestRedis();
  server = await testServer({ redisUrl: redis.url });
});
afterAll(async () => {
  await server.close();
  await redis.close();
});

let n = 0;
const newUser = () => `http-user-${++n}`;

async function rawToken(claims: Record<string, unknown>, secret = TEST_SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

describe('GET /api/dashboard/state', () => {
  it('answers 404 when nothing is stored', async () => {
    const res = await api(server, 'GET', PATH, { token: await tokenFor(newUser()) });
    expect(res.status).toBe(404);
    expect(field(res.body, 'error')).toBe('not_found');
  });

  it('answers 200 with { state, revision, savedAt, epoch } and an ETag of epoch and revision', async () => {
    const token = await tokenFor(newUser());
    const state = makeState();
    const saved = await api(server, 'POST', PATH, { token, body: { state } });
    const epoch = field(saved.body, 'epoch');
    expect(epoch).toMatch(/^[A-Za-z0-9_-]+$/);
    const res = await api(server, 'GET', PATH, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${epoch}.1"`);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual({ state, revision: 1, savedAt: field(saved.body, 'savedAt'), epoch });
  });

  it('takes "<epoch>.<revision>" in If-None-Match and If-Match, where another epoch never matches', async () => {
    const token = await tokenFor(newUser());
    const saved = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 1 }) },
    });
    const etag = saved.headers.get('etag') ?? '';
    expect(
      (await api(server, 'GET', PATH, { token, headers: { 'if-none-match': etag } })).status,
    ).toBe(304);
    const foreign = '"another0epoch.1"';
    expect(
      (await api(server, 'GET', PATH, { token, headers: { 'if-none-match': foreign } })).status,
    ).toBe(200);
    const stale = await api(server, 'POST', PATH, {
      token,
      headers: { 'if-match': foreign },
      body: { state: makeState({ timestamp: T0 + 2 }) },
    });
    expect(stale.status).toBe(412);
    const matched = await api(server, 'POST', PATH, {
      token,
      headers: { 'if-match': etag },
      body: { state: makeState({ timestamp: T0 + 3 }) },
    });
    expect(matched.status).toBe(200);
    expect(field(matched.body, 'revision')).toBe(2);
  });

  it('answers 304 when If-None-Match names the stored revision, 200 when it does not', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    const same = await api(server, 'GET', PATH, { token, headers: { 'if-none-match': '"1"' } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    const other = await api(server, 'GET', PATH, {
      token,
      headers: { 'if-none-match': '"0", W/"7"' },
    });
    expect(other.status).toBe(200);
  });
});

describe('POST and PUT /api/dashboard/state', () => {
  it('answers 200 with { revision, savedAt } and counts revisions up', async () => {
    const token = await tokenFor(newUser());
    const first = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 1 }) },
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      revision: 1,
      savedAt: expect.any(Number),
      epoch: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    expect(first.headers.get('etag')).toBe(`"${field(first.body, 'epoch')}.1"`);
    const second = await api(server, 'PUT', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 2 }) },
    });
    expect(second.status).toBe(200);
    expect(field(second.body, 'revision')).toBe(2);
  });

  it('answers 400 invalid_state naming the failing path', async () => {
    const token = await tokenFor(newUser());
    const state = makeState();
    const res = await api(server, 'POST', PATH, {
      token,
      body: {
        state: { ...state, widgets: { ...state.widgets, projectStatus: { progress: 140 } } },
      },
    });
    expect(res.status).toBe(400);
    expect(field(res.body, 'error')).toBe('invalid_state');
    expect(field(res.body, 'path')).toMatch(/^widgets\.projectStatus\./);
  });

  it('answers 400 invalid_request for a body without state, bad JSON, or a bad If-Match', async () => {
    const token = await tokenFor(newUser());
    const noState = await api(server, 'POST', PATH, { token, body: { widgets: {} } });
    expect(noState.status).toBe(400);
    expect(field(noState.body, 'error')).toBe('invalid_request');
    const badJson = await api(server, 'POST', PATH, { token, rawBody: '{"state":' });
    expect(badJson.status).toBe(400);
    expect(field(badJson.body, 'error')).toBe('invalid_request');
    const text = await api(server, 'POST', PATH, {
      token,
      rawBody: 'state',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(400);
    const badOrigin = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState(), origin: 7 },
    });
    expect(badOrigin.status).toBe(400);
    const badIfMatch = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState() },
      headers: { 'if-match': 'yesterday' },
    });
    expect(badIfMatch.status).toBe(400);
    expect(field(badIfMatch.body, 'message')).toContain('If-Match');
  });

  it('answers 412 when If-Match names a revision that is no longer stored', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 1 }) } });
    await api(server, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + 2 }) } });
    const stale = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 3 }) },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(field(stale.body, 'error')).toBe('precondition_failed');
    const fresh = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 3 }) },
      headers: { 'if-match': '"2"' },
    });
    expect(fresh.status).toBe(200);
    const any = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 4 }) },
      headers: { 'if-match': '*' },
    });
    expect(any.status).toBe(200);
  });

  it('answers 409 with the stored state when the incoming one is older (newer wins)', async () => {
    const token = await tokenFor(newUser());
    const newer = makeState({ timestamp: T0 + 500 });
    const saved = await api(server, 'POST', PATH, { token, body: { state: newer } });
    const older = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 }) },
    });
    expect(older.status).toBe(409);
    expect(field(older.body, 'error')).toBe('conflict');
    expect(field(older.body, 'current')).toEqual({
      state: newer,
      revision: 1,
      savedAt: field(saved.body, 'savedAt'),
    });
  });

  it('answers 413 with size and limit for a state over 1 MB', async () => {
    const token = await tokenFor(newUser());
    const res = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ targetBytes: MAX_STATE_SIZE_BYTES + 100 }) },
    });
    expect(res.status).toBe(413);
    expect(field(res.body, 'error')).toBe('state_too_large');
    expect(field(res.body, 'limit')).toBe(MAX_STATE_SIZE_BYTES);
    expect(field(res.body, 'size')).toBeGreaterThan(MAX_STATE_SIZE_BYTES);
  });

  it('answers the same JSON 413 for a body far over the limit', async () => {
    const token = await tokenFor(newUser());
    const res = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ targetBytes: 3 * MAX_STATE_SIZE_BYTES }) },
    });
    expect(res.status).toBe(413);
    expect(field(res.body, 'error')).toBe('state_too_large');
    expect(field(res.body, 'size')).toBeGreaterThan(3 * MAX_STATE_SIZE_BYTES);
  });
});

describe('DELETE /api/dashboard/state', () => {
  it('answers 204, after which GET is 404', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    const res = await api(server, 'DELETE', PATH, { token });
    expect(res.status).toBe(204);
    expect((await api(server, 'GET', PATH, { token })).status).toBe(404);
  });

  it('answers 204 when nothing was stored', async () => {
    const res = await api(server, 'DELETE', PATH, { token: await tokenFor(newUser()) });
    expect(res.status).toBe(204);
  });

  it('accepts Content-Type: application/json with an empty body, as many HTTP clients send it', async () => {
    const token = await tokenFor(newUser());
    await api(server, 'POST', PATH, { token, body: { state: makeState() } });
    const json = { 'content-type': 'application/json' };
    const loaded = await api(server, 'GET', PATH, { token, headers: json });
    expect(loaded.status).toBe(200);
    const deleted = await api(server, 'DELETE', PATH, { token, rawBody: '', headers: json });
    expect(deleted.status).toBe(204);
    expect((await api(server, 'GET', PATH, { token, headers: json })).status).toBe(404);
  });

  it('still refuses a save whose JSON body is empty, with a clear 400', async () => {
    const token = await tokenFor(newUser());
    const res = await api(server, 'POST', PATH, { token, rawBody: '' });
    expect(res.status).toBe(400);
    expect(field(res.body, 'error')).toBe('invalid_request');
  });
});

describe('authentication', () => {
  it('answers 401 without a token, with a malformed header, or with a garbage token', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer not-a-jwt' },
    ]) {
      const res = await api(server, 'GET', PATH, { headers });
      expect(res.status).toBe(401);
      expect(field(res.body, 'error')).toBe('unauthorized');
    }
  });

  it('answers 401 for a token signed with another secret or expired', async () => {
    const forged = await tokenFor('mallory', 'acme', 'some-other-secret-of-enough-length');
    expect((await api(server, 'GET', PATH, { token: forged })).status).toBe(401);
    const expired = await new SignJWT({ wid: 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const res = await api(server, 'GET', PATH, { token: expired });
    expect(res.status).toBe(401);
    expect(field(res.body, 'message')).toBe('token expired');
  });

  it('answers 401 for a token whose ids hold ":" or "*", before any key is built', async () => {
    for (const claims of [
      { sub: 'alice:admin', wid: 'acme' },
      { sub: 'alice', wid: 'ac*me' },
      { sub: '*', wid: '*' },
      { wid: 'acme' },
    ]) {
      const token = await rawToken(claims);
      const res = await api(server, 'POST', PATH, { token, body: { state: makeState() } });
      expect(res.status).toBe(401);
      expect(field(res.body, 'error')).toBe('unauthorized');
    }
  });

  it("keeps another user's state out of reach: no reading it, no overwriting it", async () => {
    const alice = await tokenFor('alice-private', 'acme');
    const bob = await tokenFor('bob-private', 'acme');
    const aliceInOtherWorkspace = await tokenFor('alice-private', 'globex');
    const state = makeState({ alerts: 4 });
    await api(server, 'POST', PATH, { token: alice, body: { state } });
    expect((await api(server, 'GET', PATH, { token: bob })).status).toBe(404);
    expect((await api(server, 'GET', PATH, { token: aliceInOtherWorkspace })).status).toBe(404);
    // Whatever bob sends (ids in the body or the query), he only writes his own key.
    await api(server, 'POST', `${PATH}?userId=alice-private&workspaceId=acme`, {
      token: bob,
      body: {
        state: { ...makeState({ alerts: 0 }), userId: 'alice-private', workspaceId: 'acme' },
      },
    });
    await api(server, 'DELETE', `${PATH}?userId=alice-private`, { token: bob });
    const mine = await api(server, 'GET', PATH, { token: alice });
    expect(field(mine.body, 'state')).toEqual(state);
    expect(field(mine.body, 'revision')).toBe(1);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a user exceeds the burst, without slowing others', async () => {
    const limited = await testServer({
      redisUrl: redis.url,
      rateLimit: { savesPerSecond: 1, burst: 2 },
    });
    const token = await tokenFor(newUser());
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 3; i++) {
      last = await api(limited, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + i }) },
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(field(last?.body, 'error')).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(field(last?.body, 'retryAfterMs')).toBeGreaterThan(0);
    const other = await api(limited, 'POST', PATH, {
      token: await tokenFor(newUser()),
      body: { state: makeState() },
    });
    expect(other.status).toBe(200);
  });
});

describe('probes and other routes', () => {
  it('answers /healthz and /readyz with 200 while Redis is up', async () => {
    expect((await api(server, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api(server, 'GET', '/readyz')).body).toEqual({ status: 'ready', store: 'redis' });
  });

  it('answers a JSON 404 for an unknown route', async () => {
    const res = await api(server, 'GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(field(res.body, 'error')).toBe('not_found');
  });

  it('has no dev sign-in when a secret is configured', async () => {
    const res = await api(server, 'POST', '/api/dev/token', {
      body: { user: 'a', workspace: 'b' },
    });
    expect(res.status).toBe(404);
  });
});
