// Scenario 8 of issue 4: Redis stops, the page keeps working and says so; Redis comes
// back, the page syncs again and the other device catches up without a reload. Issue 10:
// the page says so on its own (the server tells every socket `status: down`/`up`), not
// only once the user changes something.
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

  it('leaves `synced` within 5 s of Redis being killed, with no user action, and comes back', async () => {
    const user = uniqueId('outage-idle');
    const page = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');

    const killedAt = Date.now();
    await e2e.stack.redis.stop('SIGKILL');
    // Nobody touches the page: the server's `status: down` alone must move the indicator.
    await waitForSyncStatus(page, 'offline', 5000);
    expect(Date.now() - killedAt).toBeLessThan(5000);

    await e2e.stack.redis.start();
    await waitForSyncStatus(page, 'synced', 30_000);
  });
});
