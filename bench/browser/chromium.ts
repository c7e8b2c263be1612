// Chromium for the browser benchmarks: the shared launch, plus flags that keep timers of
// background tabs unthrottled (tab B is never in front) so timings are not distorted.
import type { Browser } from 'playwright-core';
import { launchChromium as launchSharedChromium } from '../../test-support/chromium.js';

export { CHROMIUM_PATH } from '../../test-support/chromium.js';

const BENCH_ARGS = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export function launchChromium(): Promise<Browser> {
  return launchSharedChromium(BENCH_ARGS);
}
