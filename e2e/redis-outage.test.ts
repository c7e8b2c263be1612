// Scenario 8 of issue 4: Redis stops, the page keeps working and says so; Redis comes
// back, the page syncs again and the other device catches up without a reload.
import { describe, expect, it } from 'vitest';
import { uniqueId } from './support/api.js';
import {
  alertTitles,
  openDashboard,
  tid,
  waitForAlertCount,
  waitForSyncStatus,
} from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();
const WORKSPACE = 'e2e-outage';

describe('Redis outage', () => {
  it('keeps working offline while Redis is down and catches the other device up when it is back', async () => {
    const user = uniqueId('outage');
    const laptop = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    const desktop = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(laptop, 'synced');
    await waitForSyncStatus(desktop, 'synced');

    await e2e.stack.redis.stop();
    await laptop.locator(tid('add-alert')).click();
    await laptop.locator(tid('add-activity')).click();
    await waitForAlertCount(laptop, 1);
    await waitForSyncStatus(laptop, ['offline', 'error'], 20_000);
    // Still usable: more changes apply locally while the server cannot store them.
    await laptop.locator(tid('add-alert')).click();
    await waitForAlertCount(laptop, 2);
    expect(await desktop.locator(tid('alert-item')).count()).toBe(0);

    await e2e.stack.redis.start();
    await waitForSyncStatus(laptop, 'synced', 30_000);
    await waitForAlertCount(desktop, 2, 30_000);
    expect(await alertTitles(desktop)).toEqual(await alertTitles(laptop));
    await expect
      .poll(() => desktop.locator(tid('activity-item')).count(), { timeout: 10_000 })
      .toBe(1);
  });
});
