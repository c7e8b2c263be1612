// Issue 28: sign-out is local and copies are owned. Signing out on one device leaves the
// dashboard on the other device and on the server; another person signing in on the same
// browser sees and uploads nothing of the first, in any tab; a token that changes hands
// while the engine runs leaves the second person's server copy untouched; and the
// explicit reset deletes the dashboard everywhere.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { devToken, serverState, uniqueId } from './support/api.js';
import {
  openDashboard,
  persistedEntry,
  signIn,
  tid,
  waitForAlertCount,
  waitForSyncStatus,
} from './support/dashboard.js';
import { type HarnessApi, openHarness } from './support/harness.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();
const WORKSPACE = 'e2e-signout';

/** Waits until the server copy of the user whose token this is holds `count` alerts. */
async function waitForServerAlerts(token: string, count: number): Promise<void> {
  await expect
    .poll(async () => (await serverState(e2e.baseUrl, token))?.state.widgets.alerts.length, {
      timeout: 10_000,
    })
    .toBe(count);
}

/** How many alerts a persisted envelope holds (undefined: no envelope). */
function storedAlertCount(entry: string | null): number | undefined {
  if (entry === null) return undefined;
  return (JSON.parse(entry) as { state: { widgets: { alerts: unknown[] } } }).state.widgets.alerts
    .length;
}

/** Calls `method` of the harness page's `window.harness`. */
function harness(page: Page, method: keyof HarnessApi, arg?: string): Promise<unknown> {
  return page.evaluate(
    ([name, value]) => {
      const api = (window as unknown as { harness: Record<string, (arg?: string) => unknown> })
        .harness;
      return api[name]?.(value);
    },
    [method, arg] as const,
  );
}

describe('sign-out is local', () => {
  it('keeps the dashboard on the other device and on the server', async () => {
    const user = uniqueId('signout-device');
    const laptop = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(laptop, 'synced');
    await waitForSyncStatus(phone, 'synced');
    for (let i = 0; i < 3; i += 1) await laptop.locator(tid('add-alert')).click();
    await waitForAlertCount(phone, 3);
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await waitForServerAlerts(token, 3);

    await laptop.locator(tid('signout')).click();
    await laptop.locator(tid('signin-submit')).waitFor();
    expect(await laptop.getByRole('status').textContent()).toContain(
      'it stays on your other devices',
    );
    expect(await persistedEntry(laptop)).toBeNull();
    // The server copy stays (GET 200) and the phone keeps its dashboard, also after a reload.
    expect((await serverState(e2e.baseUrl, token))?.state.widgets.alerts).toHaveLength(3);
    await phone.reload();
    await waitForSyncStatus(phone, 'synced');
    await waitForAlertCount(phone, 3);

    // Signing in again on the laptop brings the dashboard back from the server.
    await signIn(laptop, user, WORKSPACE);
    await waitForAlertCount(laptop, 3);
  });
});

describe('copies are owned', () => {
  it('shows and uploads nothing of the first person to another who signs in, in any tab', async () => {
    const first = uniqueId('owner-first');
    const second = uniqueId('owner-second');
    const context = await e2e.device();
    const tab1 = await openDashboard(context, e2e.baseUrl, first, WORKSPACE);
    const tab2 = await openDashboard(context, e2e.baseUrl, first, WORKSPACE);
    await waitForSyncStatus(tab1, 'synced');
    await tab1.locator(tid('add-alert')).click();
    await tab1.locator(tid('add-alert')).click();
    await waitForAlertCount(tab2, 2);
    await waitForServerAlerts(await devToken(e2e.baseUrl, first, WORKSPACE), 2);
    // The server copy is saved within 100 ms, the local one after the 1 s debounce: wait
    // for it, so the check below is about what ending the session leaves, not the timer.
    await expect
      .poll(async () => storedAlertCount(await persistedEntry(tab1)), { timeout: 10_000 })
      .toBe(2);

    // The first person's session ends without a sign-out (it expired, or was dropped):
    // the browser keeps their dashboard in storage, and tab 2 is back at the sign-in form.
    await tab1.evaluate(() => localStorage.removeItem('hyvve-session'));
    await tab2.locator(tid('signin-submit')).waitFor();
    expect(await persistedEntry(tab2)).toContain(`"userId":"${first}"`);

    // Another person signs in in tab 2; tab 1 follows the shared session.
    await signIn(tab2, second, WORKSPACE);
    await tab1.locator('.user-name').filter({ hasText: second }).waitFor();
    for (const tab of [tab1, tab2]) {
      await waitForSyncStatus(tab, 'synced');
      await waitForAlertCount(tab, 0);
    }
    const secondToken = await devToken(e2e.baseUrl, second, WORKSPACE);
    expect(await serverState(e2e.baseUrl, secondToken)).toBeNull();
    expect((await persistedEntry(tab1)) ?? '').not.toContain(first);
    // Their own change is theirs alone.
    await tab2.locator(tid('add-alert')).click();
    await waitForAlertCount(tab1, 1);
    await waitForServerAlerts(secondToken, 1);
    await waitForServerAlerts(await devToken(e2e.baseUrl, first, WORKSPACE), 2);
  });

  it('leaves the second person’s server copy untouched when the token changes hands in place', async () => {
    const first = uniqueId('inplace-first');
    const second = uniqueId('inplace-second');
    const firstToken = await devToken(e2e.baseUrl, first, WORKSPACE);
    const secondToken = await devToken(e2e.baseUrl, second, WORKSPACE);
    // The second person already has a dashboard on the server.
    const seeded = await openDashboard(await e2e.device(), e2e.baseUrl, second, WORKSPACE);
    await waitForSyncStatus(seeded, 'synced');
    await seeded.locator(tid('project-select')).selectOption('proj-cassini');
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, secondToken))?.state.activeProject)
      .toBe('proj-cassini');
    await seeded.close();
    const before = await serverState(e2e.baseUrl, secondToken);

    const page = await openHarness(await e2e.device(), e2e.baseUrl);
    await harness(page, 'setToken', firstToken);
    await harness(page, 'start');
    await page.waitForFunction(
      () => (window as unknown as { harness: HarnessApi }).harness.syncStatus() === 'synced',
    );
    await harness(page, 'setActiveProject', 'first-persons');
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, firstToken))?.state.activeProject)
      .toBe('first-persons');

    // The app now hands the running engine the second person's token.
    await harness(page, 'setToken', secondToken);
    await harness(page, 'dropSocket');
    await page.waitForFunction(() => {
      const api = (window as unknown as { harness: HarnessApi }).harness;
      return api.activeProject() === 'proj-cassini' && api.syncStatus() === 'synced';
    });
    const after = await serverState(e2e.baseUrl, secondToken);
    expect(after?.revision).toBe(before?.revision);
    expect(after?.state.activeProject).toBe('proj-cassini');
    // Stored (after the storage debounce) as the second person's.
    await page.waitForFunction(
      (owner) =>
        (window as unknown as { harness: HarnessApi }).harness.stored()?.includes(owner) === true,
      `"owner":{"workspaceId":"${WORKSPACE}","userId":"${second}"}`,
    );
    expect(await harness(page, 'stored')).not.toContain('first-persons');
    expect((await serverState(e2e.baseUrl, firstToken))?.state.activeProject).toBe('first-persons');
  });
});

describe('reset dashboard everywhere', () => {
  it('asks first, then deletes the server copy and empties the other device', async () => {
    const user = uniqueId('reset');
    const laptop = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    const phone = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(laptop, 'synced');
    await waitForSyncStatus(phone, 'synced');
    await laptop.locator(tid('add-alert')).click();
    await waitForAlertCount(phone, 1);
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await waitForServerAlerts(token, 1);

    // Declining the confirmation changes nothing.
    laptop.once('dialog', (dialog) => void dialog.dismiss());
    await laptop.locator(tid('reset-dashboard')).click();
    await waitForAlertCount(laptop, 1);
    expect((await serverState(e2e.baseUrl, token))?.state.widgets.alerts).toHaveLength(1);

    laptop.once('dialog', (dialog) => void dialog.accept());
    await laptop.locator(tid('reset-dashboard')).click();
    await laptop.locator(tid('dashboard-notice')).filter({ hasText: 'deleted' }).waitFor();
    expect(await serverState(e2e.baseUrl, token)).toBeNull();
    await waitForAlertCount(laptop, 0);
    await waitForAlertCount(phone, 0);
    // Still signed in: the laptop keeps syncing.
    expect(await laptop.locator(tid('signin-submit')).count()).toBe(0);
  });
});
