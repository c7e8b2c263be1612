// Debian's Chromium through playwright-core (never a downloaded browser), with the flags
// this machine needs: no sandbox as root, and no background networking, which the closed
// network would refuse. Shared by the e2e tests and the browser benchmarks.
import { type Browser, chromium } from 'playwright-core';
import { resolveChromium } from '../scripts/lib/prerequisites.mjs';

/**
 * The browser to launch: CHROMIUM_PATH (`npm test` sets it to what its prerequisite check
 * found), else the first Chromium or Chrome on PATH, else Debian's path.
 */
export const CHROMIUM_PATH = resolveChromium().path ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}
