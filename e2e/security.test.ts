// The dashboard under its Content-Security-Policy: sign-in, widgets, the live socket
// and a reload all work, and Chromium reports no CSP violation.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serverState, uniqueId } from './support/api.js';
import { openDashboard, tid, waitForAlertCount, waitForSyncStatus } from './support/dashboard.js';
import { setupE2e } from './support/setup.js';

const e2e = setupE2e();

/** Collects CSP violations the page reports (the event) and Chromium logs (the console). */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) violations.push(text);
  });
  await page.exposeFunction('reportCspViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { reportCspViolation(text: string): void })
        .reportCspViolation;
      report(
        `${event.violatedDirective} blocked ${event.blockedURI} in ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`,
      );
    });
  });
  return violations;
}

describe('content security policy', () => {
  it('serves the page with a CSP it works under, without a single violation', async () => {
    const context = await e2e.device();
    const probe = await context.newPage();
    const violations = await watchViolations(probe);
    const response = await probe.goto(e2e.baseUrl);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    await probe.close();

    const page = await context.newPage();
    const pageViolations = await watchViolations(page);
    await page.goto(e2e.baseUrl);
    await page.locator(tid('signin-user')).fill(uniqueId('csp'));
    await page.locator(tid('signin-workspace')).fill('acme');
    await page.locator(tid('signin-submit')).click();
    await page.locator(tid('widget-alerts')).waitFor({ state: 'visible' });
    await waitForSyncStatus(page, 'synced');
    await page.locator(tid('add-alert')).click();
    await page.locator(tid('add-activity')).click();
    await waitForAlertCount(page, 1);
    await page.reload();
    await waitForAlertCount(page, 1);
    await waitForSyncStatus(page, 'synced');
    expect([...violations, ...pageViolations]).toEqual([]);
    // The dashboard opened in another tab of the same browser works the same way.
    const second = await openDashboard(context, e2e.baseUrl, 'unused', 'acme');
    await waitForSyncStatus(second, 'synced');
  });
});

describe('token renewal in the browser', () => {
  it('renews the token on the open socket before it expires, without reconnecting', async () => {
    const user = uniqueId('renew');
    const context = await e2e.device();
    const page = await openDashboard(context, e2e.baseUrl, user, 'acme');
    await waitForSyncStatus(page, 'synced');
    // A session whose token lives 6 s (the dev sign-in hands out shorter tokens on request).
    const response = await fetch(`${e2e.baseUrl}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, workspace: 'acme', expiresInSeconds: 6 }),
    });
    const { token: shortLived } = (await response.json()) as { token: string };
    await page.evaluate((token) => {
      const session = JSON.parse(localStorage.getItem('hyvve-session') ?? '{}');
      localStorage.setItem('hyvve-session', JSON.stringify({ ...session, token }));
    }, shortLived);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.reload();
    await waitForSyncStatus(page, 'synced');
    const expiry = Date.now() + 6_000;
    await expect.poll(() => Date.now() > expiry + 2_000, { timeout: 15_000 }).toBe(true);
    expect(sockets).toHaveLength(1);
    expect(await page.locator(tid('sync-status')).getAttribute('data-status')).toBe('synced');
    const renewed = await page.evaluate(
      () => JSON.parse(localStorage.getItem('hyvve-session') ?? '{}').token as string,
    );
    expect(renewed).not.toBe(shortLived);
    // Still live on the same socket: an edit reaches the server.
    await page.locator(tid('add-alert')).click();
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, renewed))?.state.widgets.alerts.length, {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    expect(sockets).toHaveLength(1);
  });
});
