// Issue 23, part 1: one connection per browser. The tabs of one browser (one context)
// share one WebSocket held by the leader tab (Web Locks); the others save and listen
// through it. Counted on both ends: the server's `/metrics` (`hyvve_websockets_open`,
// every socket of this file's server) and the sockets each page opened (an init script
// records them). The first tab opened leads: the others open after it is synced.
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueId } from './support/api.js';
import { openDashboard, tid, waitForAlertCount, waitForSyncStatus } from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();
const WORKSPACE = 'e2e-leader';

/** Sockets the server holds open now (each test starts at none, see `noSockets`). */
async function serverSockets(): Promise<number> {
  const text = await (await fetch(`${e2e.baseUrl}/metrics`)).text();
  const match = /^hyvve_websockets_open (\d+)$/m.exec(text);
  if (!match) throw new Error('no hyvve_websockets_open in /metrics');
  return Number(match[1]);
}

/** Waits until the previous test's sockets are gone from the server (its pages closed). */
async function noSockets(): Promise<void> {
  await expect.poll(serverSockets, { timeout: 5000, interval: 50 }).toBe(0);
}

/** Records every WebSocket a page of `context` opens, for `openSockets`. */
async function countSockets(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    const opened: WebSocket[] = [];
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        opened.push(this);
      }
    };
    (window as unknown as { openSockets: () => number }).openSockets = () =>
      opened.filter((socket) => socket.readyState === Native.OPEN).length;
  });
  return context;
}

/** Open sockets of `pages` together (pages that are running: not frozen, not crashed). */
async function openSockets(pages: Page[]): Promise<number> {
  let total = 0;
  for (const page of pages) {
    total += await page.evaluate(() =>
      (window as unknown as { openSockets: () => number }).openSockets(),
    );
  }
  return total;
}

/** Opens `count` tabs of `user` one after the other, each synced before the next. */
async function openTabs(context: BrowserContext, user: string, count: number): Promise<Page[]> {
  const tabs: Page[] = [];
  for (let i = 0; i < count; i += 1) {
    const tab = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(tab, 'synced');
    tabs.push(tab);
  }
  return tabs;
}

/**
 * Waits (at most `timeout`) until `tabs` hold exactly one open socket between them, the
 * server holds `serverTotal`, and every tab is synced: checked together, so an old
 * socket still open on either end, or none yet, does not pass.
 */
async function waitForOneSocket(tabs: Page[], serverTotal: number, timeout: number) {
  await expect
    .poll(
      async () => {
        const statuses = await Promise.all(
          tabs.map((tab) => tab.locator(tid('sync-status')).getAttribute('data-status')),
        );
        return {
          browser: await openSockets(tabs),
          server: await serverSockets(),
          synced: statuses.every((status) => status === 'synced'),
        };
      },
      { timeout, interval: 50 },
    )
    .toEqual({ browser: 1, server: serverTotal, synced: true });
}

/** Adds an alert in `from` and waits until every page shows `count` alerts. */
async function addAlertEverywhere(from: Page, pages: Page[], count: number): Promise<void> {
  await from.locator(tid('add-alert')).click();
  for (const page of pages) await waitForAlertCount(page, count);
}

describe('one connection per browser', () => {
  it('opens one socket for five tabs, and a follower’s edit reaches another device and every tab', async () => {
    const user = uniqueId('leader-five');
    await noSockets();
    const tabs = await openTabs(await countSockets(await e2e.device()), user, 5);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(phone, 'synced');
    await waitForOneSocket(tabs, 2, 5000);

    const follower = tabs[4] as Page;
    await addAlertEverywhere(follower, [phone, ...tabs], 1);
    await addAlertEverywhere(phone, tabs, 2);
    expect(await serverSockets()).toBe(2);
  });

  it('keeps one socket within 2 s when the leader tab closes, and edits still flow', async () => {
    const user = uniqueId('leader-close');
    await noSockets();
    const [leader, ...followers] = await openTabs(await countSockets(await e2e.device()), user, 3);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForOneSocket([leader as Page, ...followers], 2, 5000);

    await leader?.close();
    await waitForOneSocket(followers, 2, 2000);
    await addAlertEverywhere(followers[1] as Page, [phone, ...followers], 1);
    await addAlertEverywhere(phone, followers, 2);
  });

  it('keeps one socket within 2 s when the leader tab crashes, and edits still flow', async () => {
    const user = uniqueId('leader-crash');
    await noSockets();
    const context = await countSockets(await e2e.device());
    const [leader, ...followers] = await openTabs(context, user, 3);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForOneSocket([leader as Page, ...followers], 2, 5000);

    const crashed = new Promise((resolve) => leader?.once('crash', resolve));
    const cdp = await context.newCDPSession(leader as Page);
    void cdp.send('Page.crash').catch(() => {}); // answered by nobody: the page is gone
    await crashed;
    await waitForOneSocket(followers, 2, 2000);
    await addAlertEverywhere(followers[1] as Page, [phone, ...followers], 1);
    await addAlertEverywhere(phone, followers, 2);
  });

  it('replaces a frozen leader, which follows once it runs again', async () => {
    const user = uniqueId('leader-frozen');
    await noSockets();
    const context = await countSockets(await e2e.device());
    const [leader, ...followers] = await openTabs(context, user, 3);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForOneSocket([leader as Page, ...followers], 2, 5000);

    // A frozen page runs nothing, yet keeps its Web Lock and its socket. Headless Chromium
    // takes `frozen` without stopping timers (checked: they run on), so the page's event
    // loop is stopped as well, in the debugger.
    const cdp = await context.newCDPSession(leader as Page);
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    await expect
      .poll(
        async () => ({ browser: await openSockets(followers), server: await serverSockets() }),
        {
          timeout: 5000,
          interval: 50,
        },
      )
      .toEqual({ browser: 1, server: 3 });
    for (const tab of followers) await waitForSyncStatus(tab, 'synced');
    await addAlertEverywhere(followers[1] as Page, [phone, ...followers], 1);

    // Running again, the old leader finds the lock taken, closes its socket and follows.
    await cdp.send('Debugger.resume');
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    await waitForOneSocket([leader as Page, ...followers], 2, 5000);
    await waitForAlertCount(leader as Page, 1);
    await addAlertEverywhere(leader as Page, [phone, ...followers], 2);
  });
});
