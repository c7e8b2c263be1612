// `@fastify/static` is optional: a page server without it gets an OptionError naming the
// package (and staticDir) at start, not a crash at the first page request; with it, the
// page is served. The packaging e2e test meets the missing package for real (a consumer
// app without it); here the import of a package that is not installed stands in for it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStaticPlugin, registerStaticPage } from '../src/http/static-page.js';
import { OptionError } from '../src/index.js';
import { testServer } from './support/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'hyvve-static-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Imports a package that is not installed: Node's own ERR_MODULE_NOT_FOUND. */
const missing = () => import(['@hyvve', 'not-installed-static'].join('/'));

describe('the optional @fastify/static', () => {
  it('missing, fails the start with an OptionError naming the package and staticDir', async () => {
    const error = await loadStaticPlugin(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('staticDir');
    expect((error as OptionError).message).toMatch(
      /^staticDir serves the page through the optional package @fastify\/static, which is not installed: run `npm install @fastify\/static`/,
    );
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    const app = Fastify();
    registerStaticPage(app, dir, missing);
    await expect(app.ready()).rejects.toThrow('@fastify/static');
    await app.close();
  });

  it('any other failure of the import is passed on as it is', async () => {
    const broken = new Error('broken package');
    await expect(loadStaticPlugin(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('installed, serves the page (and its index.html for an unknown page path)', async () => {
    const server = await testServer({ staticDir: dir });
    const page = await fetch(`${server.url}/some/page`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>page</title>');
  });
});
