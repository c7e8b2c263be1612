// Per-file e2e lifecycle: one stack (Redis + built server) and one Chromium for the
// file, a fresh set of browser contexts ("devices") per test, all torn down after.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium, newDevice } from './browser.js';
import { type Stack, startStack } from './stack.js';

export interface E2e {
  readonly stack: Stack;
  readonly browser: Browser;
  readonly baseUrl: string;
  /** A new browser context, closed after the test. */
  device(viewport?: { width: number; height: number }): Promise<BrowserContext>;
}

export function setupE2e(): E2e {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    // An uncaught exception in the page is a bug even when the assertions passed.
    const errors = pageErrors.splice(0);
    if (errors.length > 0) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (beforeAll failed?)`);
    return value;
  };

  return {
    get stack() {
      return required(stack, 'the stack');
    },
    get browser() {
      return required(browser, 'chromium');
    },
    get baseUrl() {
      return required(stack, 'the stack').baseUrl;
    },
    async device(viewport) {
      const context = await newDevice(required(browser, 'chromium'), viewport);
      context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
      contexts.push(context);
      return context;
    },
  };
}
