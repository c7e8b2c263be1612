// Chromium for the e2e tests: the shared launch (test-support/chromium.ts) and fresh
// "devices" with the timeouts every e2e file shares.
import type { Browser, BrowserContext } from 'playwright-core';

export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from '../../test-support/chromium.js';

/** A fresh "device": its own localStorage, BroadcastChannel scope and cookies. */
export async function newDevice(
  browser: Browser,
  viewport: { width: number; height: number } = { width: 1280, height: 860 },
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  return context;
}
