// Issue 12: no edit lost. Two devices on two server instances sharing Redis: B's server
// stops, B adds activity, A dismisses an alert, B's server comes back: every device shows
// A's dismissal and B's entries, and so does a third device signing in afterwards.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test-support/redis-server.js';
import { uniqueId } from './support/api.js';
import { launchChromium, newDevice } from './support/browser.js';
import {
  openDashboard,
  tid,
  waitForActivityCount,
  waitForAlertCount,
  waitForSyncStatus,
} from './support/dashboard.js';
import { type ServerInstance, serverInstance } from './support/instances.js';

const WORKSPACE = 'e2e-merge';
let redis: TestRedis;
let serverA: ServerInstance;
let serverB: ServerInstance;
let browser: Browser;

beforeAll(async () => {
  redis = await startTestRedis();
  const secret = `e2e-merge-secret-${Date.now()}-0123456789abcdef`;
  serverA = await serverInstance(redis.url, secret);
  serverB = await serverInstance(redis.url, secret);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await serverA?.stop();
  await serverB?.stop();
  await redis?.close();
});

describe('no edit lost across devices', () => {
  it("shows A's dismissal and B's offline activity on every device once B's server is back", async () => {
    const user = uniqueId('merge');
    const contexts = [await newDevice(browser), await newDevice(browser)];
    try {
      const [contextA, contextB] = contexts as [
        (typeof contexts)[number],
        (typeof contexts)[number],
      ];
      const a = await openDashboard(contextA, serverA.baseUrl, user, WORKSPACE);
      const b = await openDashboard(contextB, serverB.baseUrl, user, WORKSPACE);
      await waitForSyncStatus(a, 'synced');
      await waitForSyncStatus(b, 'synced');
      await a.locator(tid('add-alert')).click();
      await a.locator(tid('add-alert')).click();
      await waitForAlertCount(b, 2);
      await waitForSyncStatus(b, 'synced');

      await serverB.stop();
      await waitForSyncStatus(b, ['offline', 'error'], 20_000);
      await b.locator(tid('add-activity')).click();
      await b.locator(tid('add-activity')).click();
      await waitForActivityCount(b, 2);
      await a.locator(tid('alert-dismiss')).first().click();
      await waitForAlertCount(a, 1);
      await waitForSyncStatus(a, 'synced');

      await serverB.start();
      await waitForSyncStatus(b, 'synced', 30_000);
      for (const page of [a, b]) {
        await waitForAlertCount(page, 1, 20_000);
        await waitForActivityCount(page, 2, 20_000);
      }
      const third = await newDevice(browser);
      contexts.push(third);
      const c = await openDashboard(third, serverA.baseUrl, user, WORKSPACE);
      await waitForSyncStatus(c, 'synced');
      await waitForAlertCount(c, 1);
      await waitForActivityCount(c, 2);
      expect(await c.locator(tid('alert-item')).count()).toBe(1);
    } catch (error) {
      throw new Error(
        `${String(error)}\n--- server A ---\n${serverA.log()}\n--- server B ---\n${serverB.log()}`,
        { cause: error },
      );
    } finally {
      await Promise.all(contexts.map((context) => context.close()));
    }
  }, 120_000);
});
