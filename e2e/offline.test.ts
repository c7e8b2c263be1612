// Issue 23, part 2: the dashboard opens offline. A service worker keeps the built app
// shell, so a reload with the server stopped still shows the last state and `offline`;
// an edit made then reaches another device once the server is back; a new deployment is
// served on the next reload; and the page works as before where workers are blocked.
import { rm } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test-support/redis-server.js';
import { devToken, serverState, uniqueId } from './support/api.js';
import { launchChromium, newDevice } from './support/browser.js';
import {
  alertTitles,
  openDashboard,
  persistedEntry,
  tid,
  waitForAlertCount,
  waitForSyncStatus,
} from './support/dashboard.js';
import {
  buildWebApp,
  DEFAULT_WEB_DIST,
  type Deployment,
  deployment,
  shellFiles,
} from './support/deployments.js';

const WORKSPACE = 'e2e-offline';
const NEXT_BUILD_ID = 'e2e-next-deploy';
let redis: TestRedis;
let server: Deployment;
let browser: Browser;
let nextBuild: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  server = await deployment(redis.url, `e2e-offline-secret-${Date.now()}-0123456789abcdef`);
  browser = await launchChromium();
  nextBuild = await buildWebApp(NEXT_BUILD_ID);
}, 120_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await server.stop();
  const errors = pageErrors.splice(0);
  if (errors.length > 0) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await redis?.close();
  if (nextBuild) await rm(nextBuild, { recursive: true, force: true });
});

async function device(options: { blockServiceWorkers?: boolean } = {}): Promise<BrowserContext> {
  const context = options.blockServiceWorkers
    ? await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1280, height: 860 } })
    : await newDevice(browser);
  context.setDefaultTimeout(10_000);
  context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
  contexts.push(context);
  return context;
}

/** Waits until the service worker has installed the shell and controls the page. */
async function waitForServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, {
    timeout: 20_000,
    polling: 100,
  });
}

/** Paths of everything the page's origin holds in Cache Storage. */
function cachedPaths(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) paths.push(new URL(request.url).pathname);
    }
    return paths.sort();
  });
}

/** Reloads and waits for the dashboard, so a browser error page fails here, not later. */
async function reloadDashboard(page: Page): Promise<void> {
  await page.reload();
  await page.locator(tid('widget-alerts')).waitFor();
}

const buildOf = (page: Page): Promise<string | null> =>
  page.evaluate(() => document.documentElement.getAttribute('data-build'));

describe('the dashboard offline', () => {
  it('reloads with the server stopped, keeps an offline edit and merges it when the server is back', async () => {
    await server.start(DEFAULT_WEB_DIST);
    const user = uniqueId('offline');
    const page = await openDashboard(await device(), server.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');
    await page.locator(tid('add-alert')).click();
    const [first] = await alertTitles(page);
    const token = await devToken(server.baseUrl, user, WORKSPACE);
    await expect
      .poll(async () => (await serverState(server.baseUrl, token))?.state.widgets.alerts.length, {
        timeout: 10_000,
      })
      .toBe(1);
    await waitForServiceWorker(page);
    // The public build only: no API answer (state, session check, token) is kept.
    expect(await cachedPaths(page)).toEqual(await shellFiles(DEFAULT_WEB_DIST));

    await server.stop();
    await waitForSyncStatus(page, ['offline', 'error'], 20_000);
    await reloadDashboard(page);
    await waitForAlertCount(page, 1);
    expect(await alertTitles(page)).toEqual([first]);
    await waitForSyncStatus(page, 'offline', 20_000);

    await page.locator(tid('add-alert')).click();
    await waitForAlertCount(page, 2);
    const titles = await alertTitles(page);
    await expect.poll(() => persistedEntry(page), { timeout: 10_000 }).toContain(titles[0]);
    // Still offline, a second reload keeps the edit.
    await reloadDashboard(page);
    await waitForAlertCount(page, 2);
    expect(await alertTitles(page)).toEqual(titles);

    await server.start(DEFAULT_WEB_DIST);
    await waitForSyncStatus(page, 'synced', 40_000);
    const other = await openDashboard(await device(), server.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(other, 'synced');
    await waitForAlertCount(other, 2);
    expect(await alertTitles(other)).toEqual(titles);
  }, 120_000);

  it('serves a new deployment on the next reload, and then opens that build offline', async () => {
    await server.start(DEFAULT_WEB_DIST);
    const page = await openDashboard(await device(), server.baseUrl, uniqueId('deploy'), WORKSPACE);
    await waitForSyncStatus(page, 'synced');
    await waitForServiceWorker(page);
    expect(await buildOf(page)).not.toBe(NEXT_BUILD_ID);
    const nextShell = await shellFiles(nextBuild);
    expect(nextShell).not.toEqual(await shellFiles(DEFAULT_WEB_DIST));

    await server.stop();
    await server.start(nextBuild);
    await reloadDashboard(page);
    expect(await buildOf(page)).toBe(NEXT_BUILD_ID);
    await waitForSyncStatus(page, 'synced');

    // The new build's worker replaces the old shell with the new one.
    await expect.poll(() => cachedPaths(page), { timeout: 20_000 }).toEqual(nextShell);
    await server.stop();
    await reloadDashboard(page);
    expect(await buildOf(page)).toBe(NEXT_BUILD_ID);
    await waitForSyncStatus(page, 'offline', 20_000);
  }, 120_000);

  it('works as before where service workers are blocked', async () => {
    await server.start(DEFAULT_WEB_DIST);
    const user = uniqueId('no-worker');
    const page = await openDashboard(
      await device({ blockServiceWorkers: true }),
      server.baseUrl,
      user,
      WORKSPACE,
    );
    await waitForSyncStatus(page, 'synced');
    await page.locator(tid('add-alert')).click();
    const [title] = await alertTitles(page);
    const token = await devToken(server.baseUrl, user, WORKSPACE);
    await expect
      .poll(
        async () => (await serverState(server.baseUrl, token))?.state.widgets.alerts[0]?.title,
        {
          timeout: 10_000,
        },
      )
      .toBe(title);
    await reloadDashboard(page);
    await waitForAlertCount(page, 1);
    expect(await page.evaluate(() => navigator.serviceWorker?.controller ?? null)).toBeNull();
  }, 60_000);
});
