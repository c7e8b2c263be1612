// The dashboard under its Content-Security-Policy: sign-in, widgets, the live socket
// and a reload all work, and Chromium reports no CSP violation.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueId } from './support/api.js';
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
