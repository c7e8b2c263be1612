// The demo sign-in: errors a person can act on, a session the server no longer accepts
// sends them back to sign-in instead of a dashboard that silently stops syncing, and
// "reset dashboard everywhere" deletes the server copy even where only the WebSocket is
// blocked (sign-out itself is local: e2e/sign-out.test.ts).
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serverState, uniqueId } from './support/api.js';
import { openDashboard, tid, waitForAlertCount, waitForSyncStatus } from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();
const SUBSCRIBE_URL = /\/api\/dashboard\/state\/subscribe/;

/** The token the page signed in with, read from its session. */
async function pageToken(page: Page): Promise<string> {
  const raw = await page.evaluate(() => localStorage.getItem('hyvve-session'));
  if (raw === null) throw new Error('the page holds no session');
  return (JSON.parse(raw) as { token: string }).token;
}

/**
 * Signs in, saves an alert to the server over the socket, then reloads behind a proxy
 * that refuses WebSockets (HTTP still goes through): the page runs with its socket down
 * while the server holds a copy. Returns the page and its token.
 */
async function dashboardWithSocketBlocked(
  context: BrowserContext,
): Promise<{ page: Page; token: string }> {
  const page = await openDashboard(context, e2e.baseUrl, uniqueId('reset-no-ws'), 'acme');
  await waitForSyncStatus(page, 'synced');
  const token = await pageToken(page);
  await page.locator(tid('add-alert')).click();
  await expect
    .poll(async () => (await serverState(e2e.baseUrl, token))?.state.widgets.alerts.length, {
      timeout: 10_000,
    })
    .toBe(1);

  await context.routeWebSocket(SUBSCRIBE_URL, (socket) => {
    socket.close({ code: 1011, reason: 'WebSockets blocked by the test proxy' });
  });
  await page.reload();
  await waitForAlertCount(page, 1);
  await waitForSyncStatus(page, ['offline', 'error']);
  return { page, token };
}

describe('demo sign-in', () => {
  it('explains an id it cannot accept and stays on the sign-in form', async () => {
    const page = await (await e2e.device()).newPage();
    await page.goto(e2e.baseUrl);
    await page.locator(tid('signin-user')).fill('ada lovelace');
    await page.locator(tid('signin-workspace')).fill('acme');
    await page.locator(tid('signin-submit')).click();
    const error = page.locator(tid('signin-error'));
    await error.waitFor();
    expect(await error.textContent()).toContain('User id must be 1 to 128 letters');
    expect(await page.locator(tid('widget-alerts')).count()).toBe(0);
  });

  it('stays signed in across a reload', async () => {
    const page = await (await e2e.device()).newPage();
    await page.goto(e2e.baseUrl);
    await page.locator(tid('signin-user')).fill(uniqueId('reload'));
    await page.locator(tid('signin-workspace')).fill('acme');
    await page.locator(tid('signin-submit')).click();
    await waitForSyncStatus(page, 'synced');
    await page.reload();
    await waitForSyncStatus(page, 'synced');
    expect(await page.locator(tid('signin-submit')).count()).toBe(0);
  });

  it('sends a person whose token the server rejects back to sign-in', async () => {
    const context = await e2e.device();
    await context.addInitScript(() => {
      if (!location.protocol.startsWith('http')) return; // about:blank has no storage
      localStorage.setItem(
        'hyvve-session',
        JSON.stringify({ token: 'not.a-valid.token', userId: 'ada', workspaceId: 'acme' }),
      );
    });
    const page = await context.newPage();
    await page.goto(e2e.baseUrl);
    await page.locator(tid('signin-submit')).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('session has expired');
  });
});

describe('reset with the WebSocket blocked', () => {
  it('deletes the server copy over HTTP and says so', async () => {
    const { page, token } = await dashboardWithSocketBlocked(await e2e.device());

    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(tid('reset-dashboard')).click();
    await page.locator(tid('dashboard-notice')).waitFor();
    // The notice shows only once the delete was answered: no wait for the server.
    expect(await serverState(e2e.baseUrl, token)).toBeNull();
    expect(await page.locator(tid('dashboard-notice')).textContent()).toContain(
      'deleted from the server and from every device.',
    );
    await waitForAlertCount(page, 0);
  });

  it('says the server copy stays until it expires when HTTP cannot reach the server either', async () => {
    const context = await e2e.device();
    const { page, token } = await dashboardWithSocketBlocked(context);
    await context.route(/\/api\/dashboard\/state$/, (route) =>
      route.request().method() === 'DELETE' ? route.abort('connectionrefused') : route.fallback(),
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(tid('reset-dashboard')).click();
    await page.locator(tid('dashboard-notice')).waitFor();
    expect(await page.locator(tid('dashboard-notice')).textContent()).toContain(
      'the server could not be reached to delete its copy; it expires 24 hours after its last change.',
    );
    expect((await serverState(e2e.baseUrl, token))?.state.widgets.alerts.length).toBe(1);
  });
});
