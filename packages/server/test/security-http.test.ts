// The HTTP edge as an attacker meets it: no work before auth, protective headers, a
// state may not name another owner, the dev sign-in only where it belongs, and limits
// per IP and per user on every route with Retry-After.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makeState } from '../../../test-support/fixtures.js';
import { buildApp } from '../src/app.js';
import { DevAuthInProductionError } from '../src/http/dev-token-route.js';
import {
  MemoryStateStore,
  type RunningServer,
  type ServerOptions,
  StatePersistenceService,
  startServer,
} from '../src/index.js';
import { api, field, testServer, tokenFor } from './support/servers.js';

const PATH = '/api/dashboard/state';
let server: RunningServer;
let userCount = 0;
const newUser = () => `sec-${++userCount}`;

/** A server without AUTH_SECRET (testServer always sets one). */
async function withoutSecret(options: ServerOptions = {}): Promise<RunningServer> {
  const started = await startServer({ logLevel: 'silent', ...options });
  afterAll(() => started.close());
  return started;
}

beforeAll(async () => {
  server = await testServer();
});

describe('auth before the body', () => {
  it('answers an anonymous 1.5 MB body 401, not 413', async () => {
    const body = JSON.stringify({ state: makeState({ targetBytes: 1_500_000 }) });
    expect(body.length).toBeGreaterThan(1_400_000);
    const res = await api(server, 'POST', PATH, { rawBody: body });
    expect(res.status).toBe(401);
    expect(field(res.body, 'error')).toBe('unauthorized');
  });

  it('answers an anonymous non-JSON body 401, not 400 or 415', async () => {
    for (const contentType of ['application/json', 'text/plain', 'application/x-evil']) {
      const res = await api(server, 'POST', PATH, {
        rawBody: '{definitely not json',
        headers: { 'content-type': contentType },
      });
      expect(res.status).toBe(401);
    }
  });

  it('answers a badly signed token 401 before reading its body', async () => {
    const forged = await tokenFor('mallory', 'acme', 'not-the-server-secret-0123456789');
    const res = await api(server, 'PUT', PATH, { token: forged, rawBody: '{nope' });
    expect(res.status).toBe(401);
    expect(field(res.body, 'message')).toBe('invalid token');
  });

  it('still answers a signed-in bad body 400 and a signed-in oversize body 413', async () => {
    const token = await tokenFor(newUser());
    expect((await api(server, 'POST', PATH, { token, rawBody: '{nope' })).status).toBe(400);
    const big = JSON.stringify({ state: makeState({ targetBytes: 1_200_000 }) });
    expect((await api(server, 'POST', PATH, { token, rawBody: big })).status).toBe(413);
  });
});

describe('protective headers', () => {
  it('sends nosniff, a CSP without framing, and no referrer, on the API and errors', async () => {
    for (const res of [
      await api(server, 'GET', '/healthz'),
      await api(server, 'GET', PATH),
      await api(server, 'GET', '/no-such-page'),
    ]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
    }
  });
});

describe('the state names its owner truthfully', () => {
  it('refuses a state naming another user or workspace with 400, and stores nothing', async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const other = await api(server, 'POST', PATH, {
      token,
      body: { state: { ...makeState(), userId: 'somebody-else' } },
    });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: 'invalid_state', path: 'userId' });
    const workspace = await api(server, 'POST', PATH, {
      token,
      body: { state: { ...makeState(), workspaceId: 'other-co' } },
    });
    expect(workspace.body).toMatchObject({ error: 'invalid_state', path: 'workspaceId' });
    expect((await api(server, 'GET', PATH, { token })).status).toBe(404);
  });

  it('saves a state naming its own owner, or none', async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const own = { ...makeState(), userId: user, workspaceId: 'acme' };
    expect((await api(server, 'POST', PATH, { token, body: { state: own } })).status).toBe(200);
    const none = makeState({ timestamp: own.timestamp + 1 });
    expect((await api(server, 'POST', PATH, { token, body: { state: none } })).status).toBe(200);
  });
});

describe('dev sign-in', () => {
  const saved = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = saved;
  });

  it('is off without a secret when the host is not loopback', async () => {
    const open = await withoutSecret({ host: '0.0.0.0' });
    const res = await fetch(`http://127.0.0.1:${open.port}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', workspace: 'acme' }),
    });
    expect(res.status).toBe(404);
  });

  it('is on without a secret on a loopback host', async () => {
    const local = await withoutSecret();
    const res = await api(local, 'POST', '/api/dev/token', {
      body: { user: 'alice', workspace: 'acme' },
    });
    expect(res.status).toBe(200);
    const short = await api(local, 'POST', '/api/dev/token', {
      body: { user: 'alice', workspace: 'acme', expiresInSeconds: 30 },
    });
    const payload = JSON.parse(
      Buffer.from(String(field(short.body, 'token')).split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(payload.exp - payload.iat).toBe(30);
    for (const expiresInSeconds of [0, 86_401, 1.5, '60']) {
      const refused = await api(local, 'POST', '/api/dev/token', {
        body: { user: 'alice', workspace: 'acme', expiresInSeconds },
      });
      expect(refused.status).toBe(400);
    }
  });

  it('cannot be registered with NODE_ENV=production, whoever builds the app', async () => {
    process.env.NODE_ENV = 'production';
    const service = new StatePersistenceService({ store: new MemoryStateStore() });
    expect(() =>
      buildApp({
        service,
        authSecret: 'x'.repeat(40),
        devAuth: true,
        logger: pino({ level: 'silent' }),
      }),
    ).toThrow(DevAuthInProductionError);
    await expect(
      startServer({ authSecret: 'x'.repeat(40), devAuth: true, logLevel: 'silent' }),
    ).rejects.toThrow('DEV_AUTH');
    await service.close();
  });
});

describe('limits on every route', () => {
  it('limits reads and deletes per user with 429 and Retry-After', async () => {
    const limited = await testServer({ rateLimit: { savesPerSecond: 1, burst: 2 } });
    const token = await tokenFor(newUser());
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (const method of ['GET', 'DELETE', 'GET', 'DELETE']) {
      const res = await api(limited, method, PATH, { token });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 2)).toEqual([404, 204]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('counts each client behind a trusted proxy by its forwarded address', async () => {
    const proxied = await testServer({
      trustProxy: '127.0.0.1',
      rateLimit: { savesPerSecond: 100, burst: 100, ipPerSecond: 1, ipBurst: 1 },
    });
    const from = (address: string) =>
      api(proxied, 'GET', PATH, { headers: { 'x-forwarded-for': address } });
    expect((await from('203.0.113.1')).status).toBe(401);
    expect((await from('203.0.113.1')).status).toBe(429);
    expect((await from('203.0.113.2')).status).toBe(401);
  });

  it('limits anonymous requests per IP before auth, also on the dev sign-in and the socket upgrade', async () => {
    const limited = await withoutSecret({
      rateLimit: { savesPerSecond: 100, burst: 100, ipPerSecond: 1, ipBurst: 3 },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(limited, 'GET', PATH)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const refused = await api(limited, 'GET', PATH);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    const dev = await api(limited, 'POST', '/api/dev/token', {
      body: { user: 'alice', workspace: 'acme' },
    });
    expect(dev.status).toBe(429);
    const upgrade = new WebSocket(`${limited.url.replace('http', 'ws')}${PATH}/subscribe`);
    upgrade.on('error', () => {});
    const [, response] = (await once(upgrade, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(response.statusCode).toBe(429);
    upgrade.terminate();
  });
});
