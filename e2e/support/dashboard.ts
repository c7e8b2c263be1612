// Page helpers over the dashboard's data-testid contract. Waits are condition-based
// with bounded timeouts (the machine is small and busy).
import { STORAGE_KEY } from '@hyvve/schema';
import type { BrowserContext, Page } from 'playwright-core';

export type SyncStatus = 'local-only' | 'connecting' | 'synced' | 'offline' | 'error';

export const tid = (id: string): string => `[data-testid="${id}"]`;

export async function signIn(page: Page, user: string, workspace: string): Promise<void> {
  await page.locator(tid('signin-user')).fill(user);
  await page.locator(tid('signin-workspace')).fill(workspace);
  await page.locator(tid('signin-submit')).click();
  await page.locator(tid('widget-alerts')).waitFor({ state: 'visible' });
}

/** Opens the dashboard in a new tab of `context`, signing in when the tab is signed out. */
export async function openDashboard(
  context: BrowserContext,
  baseUrl: string,
  user: string,
  workspace: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page
    .locator(`${tid('signin-submit')}, ${tid('widget-alerts')}`)
    .first()
    .waitFor();
  if (await page.locator(tid('signin-submit')).isVisible()) await signIn(page, user, workspace);
  return page;
}

export async function syncStatus(page: Page): Promise<string | null> {
  return page.locator(tid('sync-status')).getAttribute('data-status');
}

export async function waitForSyncStatus(
  page: Page,
  expected: SyncStatus | readonly SyncStatus[],
  timeout = 10_000,
): Promise<void> {
  const wanted: string[] = typeof expected === 'string' ? [expected] : [...expected];
  await page.waitForFunction(
    ({ selector, wanted }) =>
      wanted.includes(document.querySelector(selector)?.getAttribute('data-status') ?? ''),
    { selector: tid('sync-status'), wanted },
    { timeout, polling: 50 },
  );
}

export async function alertTitles(page: Page): Promise<string[]> {
  return page.locator(`${tid('alert-item')} .alert-title`).allTextContents();
}

/** Waits until the page shows exactly `count` elements with this test id. */
export async function waitForTestIdCount(
  page: Page,
  testId: string,
  count: number,
  timeout = 10_000,
): Promise<void> {
  await page.waitForFunction(
    ({ selector, count }) => document.querySelectorAll(selector).length === count,
    { selector: tid(testId), count },
    { timeout, polling: 50 },
  );
}

/** Waits until the page shows exactly `count` open alerts. */
export function waitForAlertCount(page: Page, count: number, timeout = 10_000): Promise<void> {
  return waitForTestIdCount(page, 'alert-item', count, timeout);
}

export function waitForActivityCount(page: Page, count: number, timeout = 10_000): Promise<void> {
  return waitForTestIdCount(page, 'activity-item', count, timeout);
}

const RELATIVE_TIME = /(\d+ (s|min|h|d) ago|just now)/g;

/** Text of the four widgets without relative times: what a person sees of the state. */
export async function widgetsText(page: Page): Promise<Record<string, string>> {
  const read = async (id: string): Promise<string> =>
    ((await page.locator(tid(id)).textContent()) ?? '').replace(RELATIVE_TIME, '');
  return {
    projectStatus: await read('widget-project-status'),
    metrics: await read('widget-metrics'),
    activity: await read('widget-activity'),
    alerts: await read('widget-alerts'),
  };
}

/** The raw persisted entry of this origin's localStorage (null when there is none). */
export async function persistedEntry(page: Page): Promise<string | null> {
  return page.evaluate((key) => localStorage.getItem(key), STORAGE_KEY);
}

/**
 * Clicks `testId` in `from` and returns how long `to` took to show `count` elements
 * matching `selector`, measured inside the browsers (click listener in one tab, a
 * MutationObserver in the other, both on this machine's clock), so Playwright's own
 * round-trips are not counted.
 */
export async function measurePropagation(
  from: Page,
  to: Page,
  testId: string,
  selector: string,
  count: number,
  timeout = 10_000,
): Promise<number> {
  await to.evaluate(
    ({ selector, count }) => {
      const w = window as unknown as { __seenAt?: number };
      delete w.__seenAt;
      const check = (): boolean => {
        if (document.querySelectorAll(selector).length !== count) return false;
        w.__seenAt = Date.now();
        return true;
      };
      if (check()) return;
      const observer = new MutationObserver(() => {
        if (check()) observer.disconnect();
      });
      observer.observe(document.body, { childList: true, subtree: true });
    },
    { selector, count },
  );
  await from.evaluate((selector) => {
    const w = window as unknown as { __clickedAt?: number };
    document.querySelector(selector)?.addEventListener(
      'click',
      () => {
        w.__clickedAt = Date.now();
      },
      { capture: true, once: true },
    );
  }, tid(testId));
  await from.locator(tid(testId)).click();
  const seen = await to.waitForFunction(
    () => (window as unknown as { __seenAt?: number }).__seenAt,
    undefined,
    { timeout, polling: 50 },
  );
  const seenAt = await seen.jsonValue();
  const clickedAt = await from.evaluate(
    () => (window as unknown as { __clickedAt?: number }).__clickedAt,
  );
  if (clickedAt === undefined || seenAt === undefined) {
    throw new Error(`the click on ${testId} or its effect was not recorded`);
  }
  return seenAt - clickedAt;
}
