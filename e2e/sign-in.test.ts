// The demo sign-in: errors a person can act on, and a session the server no longer
// accepts sends them back to sign-in instead of a dashboard that silently stops syncing.
import { describe, expect, it } from 'vitest';
import { uniqueId } from './support/api.js';
import { tid, waitForSyncStatus } from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();

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
