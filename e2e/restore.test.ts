// Scenarios 1, 2, 5 and 6 of issue 4: what a reload, a closed tab, a day away and a
// transient agent state leave behind.
import { STATE_TTL_MS } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { deleteServerState, devToken, serverState, uniqueId } from './support/api.js';
import {
  alertTitles,
  openDashboard,
  persistedEntry,
  tid,
  waitForAlertCount,
  waitForSyncStatus,
  widgetsText,
} from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();
const WORKSPACE = 'e2e-restore';

describe('dashboard restore', () => {
  it('shows every widget as it was after a reload', async () => {
    const user = uniqueId('refresh');
    const context = await e2e.device();
    const page = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');

    await page.locator(tid('project-select')).selectOption('proj-borealis');
    await page.locator(tid('add-alert')).click();
    await page.locator(tid('add-alert')).click();
    await page.locator(tid('add-alert')).click();
    await page.locator(tid('alert-dismiss')).first().click();
    await page.locator(tid('add-activity')).click();
    await page.locator(tid('add-activity')).click();
    await page.locator(tid('update-metric')).click();
    await waitForAlertCount(page, 2);
    const before = await widgetsText(page);
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, token))?.state.widgets.alerts.length, {
        timeout: 10_000,
      })
      .toBe(3);

    await page.reload();
    await page.locator(tid('widget-alerts')).waitFor();
    await waitForAlertCount(page, 2);
    expect(await page.locator(tid('project-select')).inputValue()).toBe('proj-borealis');
    expect(await widgetsText(page)).toEqual(before);
  });

  it('keeps a change made just before the tab was closed', async () => {
    const user = uniqueId('close');
    const context = await e2e.device();
    const first = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(first, 'synced');

    // Inside the 1 s save debounce: the engine must flush on pagehide / hidden.
    await first.locator(tid('add-alert')).click();
    const [title] = await alertTitles(first);
    expect((await persistedEntry(first)) ?? '').not.toContain(String(title));
    await first.close({ runBeforeUnload: true });

    const reopened = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForAlertCount(reopened, 1);
    expect(await alertTitles(reopened)).toEqual([title]);
    // And the reopened page hands the change to the server.
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, token))?.state.widgets.alerts[0]?.title, {
        timeout: 10_000,
      })
      .toBe(title);
  });

  it('starts fresh and drops the old copy when the persisted state is older than 24 hours', async () => {
    const user = uniqueId('stale');
    const context = await e2e.device();
    const page = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');
    await page.locator(tid('add-alert')).click();
    const [title] = await alertTitles(page);
    await expect.poll(() => persistedEntry(page), { timeout: 10_000 }).toContain(title);
    await page.close({ runBeforeUnload: true });
    // No server copy either: the stale local copy is all there is.
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await deleteServerState(e2e.baseUrl, token);

    const later = await context.newPage();
    await later.clock.install({ time: Date.now() + STATE_TTL_MS + 60 * 60 * 1000 });
    await later.goto(e2e.baseUrl);
    await later.locator(tid('widget-alerts')).waitFor();
    await waitForSyncStatus(later, 'synced');

    await waitForAlertCount(later, 0);
    expect(await later.locator(tid('widget-project-status')).textContent()).toContain('No project');
    const entry = await persistedEntry(later);
    expect(entry === null || !entry.includes(String(title))).toBe(true);
  });

  it('forgets the loading and error states of an agent on reload', async () => {
    const user = uniqueId('transient');
    const context = await e2e.device();
    const page = await openDashboard(context, e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');

    await page.locator(tid('add-alert')).click();
    await page.locator(tid('simulate-loading')).click();
    await page.locator(tid('simulate-error')).click();
    await page.locator(tid('agent-loading')).waitFor();
    await page.locator(tid('agent-error')).waitFor();
    await expect.poll(() => persistedEntry(page), { timeout: 10_000 }).toContain('"alerts":[{');
    const persisted = JSON.parse((await persistedEntry(page)) ?? '{}') as {
      state: { loading: unknown; errors: unknown };
    };
    expect(persisted.state.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(persisted.state.errors).toEqual({});

    await page.reload();
    await waitForAlertCount(page, 1);
    expect(await page.locator(tid('agent-loading')).count()).toBe(0);
    expect(await page.locator(tid('agent-error')).count()).toBe(0);
    expect(await page.locator(tid('simulate-loading')).getAttribute('aria-pressed')).toBe('false');
  });
});
