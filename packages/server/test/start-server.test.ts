// startServer as an embedder or `npm start` uses it: memory store and dev sign-in by
// default, the web app at `/`, starting while Redis is away, and a safe close.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/redis-server.js';
import { startServer } from '../src/index.js';
import { api, field, testServer } from './support/servers.js';

describe('startServer defaults', () => {
  it('uses the memory store and a random secret with a working dev sign-in', async () => {
    const server = await startServer({ logLevel: 'silent' });
    afterAll(() => server.close());
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.service.storeKind).toBe('memory');
    expect(server.authSecret.length).toBeGreaterThanOrEqual(32);
    const issued = await api(server, 'POST', '/api/dev/token', {
      body: { user: 'demo-user', workspace: 'demo' },
    });
    expect(issued.status).toBe(200);
    const token = String(field(issued.body, 'token'));
    const saved = await api(server, 'POST', '/api/dashboard/state', {
      token,
      body: { state: makeState() },
    });
    expect(saved.status).toBe(200);
    expect((await api(server, 'GET', '/readyz')).body).toEqual({
      status: 'ready',
      store: 'memory',
    });
  });

  it('answers 400 from the dev sign-in for ids that are not allowed', async () => {
    const server = await testServer({ devAuth: true });
    for (const body of [{ user: 'a:b', workspace: 'w' }, { user: 'a' }, 'text']) {
      const res = await api(server, 'POST', '/api/dev/token', { body });
      expect(res.status).toBe(400);
      expect(field(res.body, 'error')).toBe('invalid_request');
    }
  });

  it('closes safely twice', async () => {
    const server = await startServer({ logLevel: 'silent' });
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('rejects, releasing the store, when the port is taken', async () => {
    const first = await testServer();
    await expect(startServer({ logLevel: 'silent', port: first.port })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});

describe('startServer with Redis away', () => {
  it('starts anyway, says not ready, and answers 503 for state requests', async () => {
    const port = await freePort();
    const server = await testServer({
      redisUrl: `redis://127.0.0.1:${port}`,
      redisConnectTimeoutMs: 200,
    });
    expect((await api(server, 'GET', '/healthz')).status).toBe(200);
    expect((await api(server, 'GET', '/readyz')).body).toEqual({
      status: 'unavailable',
      store: 'redis',
    });
    const { signToken } = await import('../src/index.js');
    const token = await signToken({ userId: 'u', workspaceId: 'w', secret: server.authSecret });
    const res = await api(server, 'POST', '/api/dashboard/state', {
      token,
      body: { state: makeState() },
    });
    expect(res.status).toBe(503);
  });
});

describe('serving the web app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hyvve-web-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Dashboard</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log("app")');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index.html at /, assets by path, and index.html for client-side routes', async () => {
    const server = await testServer({ staticDir: dir });
    const root = await api(server, 'GET', '/');
    expect(root.status).toBe(200);
    expect(root.text).toContain('<title>Dashboard</title>');
    const asset = await api(server, 'GET', '/app.js');
    expect(asset.text).toContain('console.log');
    const route = await api(server, 'GET', '/dashboards/42', { headers: { accept: 'text/html' } });
    expect(route.status).toBe(200);
    expect(route.text).toContain('<title>Dashboard</title>');
    const apiMiss = await api(server, 'GET', '/api/missing', { headers: { accept: 'text/html' } });
    expect(apiMiss.status).toBe(404);
    expect(field(apiMiss.body, 'error')).toBe('not_found');
  });
});
