// 3. Propagation in Chromium: a change in tab A reaching tab B of the same browser
// (BroadcastChannel, not held back by the 1 s storage debounce), and reaching another
// browser context through our server (WebSocket save → Redis pub/sub → WebSocket); and
// the same made in a follower tab, whose save goes through the leader tab's socket
// (BroadcastChannel → leader → server → the other context; issue 23).
// Send and arrival times are taken inside the pages, on the same clock.
import type { Browser, Page } from 'playwright-core';
import { buildBenchPage, serveBenchPage } from '../browser/bench-page.js';
import { launchChromium } from '../browser/chromium.js';
import type { PropagationSetup } from '../browser/page/api.js';
import type { Figure } from '../lib/results.js';
import { type Summary, summarize } from '../lib/stats.js';
import { signBenchToken } from '../lib/tokens.js';
import type { Benchmark } from './context.js';
import { startServer } from './servers.js';

interface ScenarioResult {
  changes: number;
  received: number;
  latencyMs: Summary;
  samplesMs: number[];
}

async function openPage(
  browser: Browser,
  url: string,
  setup: PropagationSetup,
  context?: Awaited<ReturnType<Browser['newContext']>>,
): Promise<Page> {
  const page = await (context ?? (await browser.newContext())).newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.benchPage !== undefined);
  await page.evaluate((s) => window.benchPage.propagationStart(s), setup);
  return page;
}

/** Sends `changes` numbered changes from `sender`, `spacingMs` apart, and times their arrival at `receiver`. */
async function measure(
  sender: Page,
  receiver: Page,
  changes: number,
  spacingMs: number,
): Promise<ScenarioResult> {
  const sent: number[] = [];
  for (let marker = 0; marker < changes; marker++) {
    sent[marker] = await sender.evaluate((m) => window.benchPage.propagationSend(m), marker);
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  // The last change gets a moment more to arrive.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const received = await receiver.evaluate(() => window.benchPage.propagationReceived());
  const samplesMs: number[] = [];
  sent.forEach((sentAt, marker) => {
    const at = received[marker];
    if (at !== undefined) samplesMs.push(at - sentAt);
  });
  return { changes, received: samplesMs.length, latencyMs: summarize(samplesMs), samplesMs };
}

export const propagation: Benchmark = async (context) => {
  const changes = context.quick ? 10 : 30;
  context.log('propagation: building the bench page');
  await buildBenchPage();
  await context.flushRedis();
  const server = await startServer(context, 'ours');
  const pages = await serveBenchPage(server.url);
  const browser = await launchChromium();
  type Scenario = 'tabs' | 'server' | 'follower';
  const results: Partial<Record<Scenario, ScenarioResult>> = {};
  const errors: Partial<Record<Scenario, string>> = {};
  try {
    try {
      context.log('propagation: tab → tab (same browser context)');
      const shared = await browser.newContext();
      const setup = { storageKey: 'bench-propagation-tabs' };
      const a = await openPage(browser, pages.url, setup, shared);
      const b = await openPage(browser, pages.url, setup, shared);
      results.tabs = await measure(a, b, changes, 150);
      await shared.close();
    } catch (error) {
      errors.tabs = String(error).split('\n')[0] ?? 'failed';
    }
    try {
      context.log('propagation: context → context (through the server)');
      const token = await signBenchToken(context.authSecret, 'bench-propagation');
      const origin = new URL(pages.url).origin;
      const setup = { storageKey: 'bench-propagation-server', server: { url: origin, token } };
      const a = await openPage(browser, pages.url, setup);
      const b = await openPage(browser, pages.url, setup);
      results.server = await measure(a, b, changes, 400);
    } catch (error) {
      errors.server = String(error).split('\n')[0] ?? 'failed';
    }
    try {
      context.log('propagation: follower tab → context (through the leader tab and the server)');
      const token = await signBenchToken(context.authSecret, 'bench-propagation-follower');
      const origin = new URL(pages.url).origin;
      const setup = { storageKey: 'bench-propagation-follower', server: { url: origin, token } };
      const browserA = await browser.newContext();
      await openPage(browser, pages.url, setup, browserA); // the leader: it takes the lock first
      const follower = await openPage(browser, pages.url, setup, browserA);
      const locks = await follower.evaluate(() => navigator.locks.query());
      if (locks.held?.length !== 1 || locks.pending?.length !== 1) {
        throw new Error(`expected one leader and one follower, got ${JSON.stringify(locks)}`);
      }
      const b = await openPage(browser, pages.url, setup);
      results.follower = await measure(follower, b, changes, 400);
    } catch (error) {
      errors.follower = String(error).split('\n')[0] ?? 'failed';
    }
  } finally {
    await browser.close();
    await pages.close();
    await server.stop();
  }
  const figure = (scenario: Scenario, label: string, targetMs: number): Figure => {
    const result = results[scenario];
    const lost = result ? result.changes - result.received : 0;
    const invalid =
      errors[scenario] ?? (lost > 0 ? `${lost} of ${changes} changes never arrived` : undefined);
    return {
      benchmark: 'propagation',
      label,
      unit: 'ms',
      ours: result?.latencyMs.p50 ?? null,
      baseline: null,
      baselineLabel: '',
      target: { kind: 'at-most', value: targetMs },
      ...(invalid ? { invalid } : {}),
      ...(result
        ? { note: `p99 ${result.latencyMs.p99.toFixed(1)} ms over ${result.received} changes` }
        : {}),
    };
  };
  return {
    figures: [
      figure('tabs', 'Propagation tab → tab, same browser (p50)', 50),
      figure('server', 'Propagation context → context via server (p50)', 30),
      figure('follower', 'Propagation follower tab → context via leader tab and server (p50)', 30),
    ],
    details: { changes, results, errors },
  };
};
