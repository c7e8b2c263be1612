// Scenario 9 of issue 4: the agent simulator writes through the server API and an open
// dashboard shows each update live. Also saves the screenshot used in the README.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { devToken, serverState } from './support/api.js';
import {
  openDashboard,
  tid,
  waitForActivityCount,
  waitForSyncStatus,
} from './support/dashboard.js';
import { setupE2e } from './support/setup.js';
import { ROOT } from './support/stack.js';

const e2e = setupE2e();
const WORKSPACE = 'acme';
const AGENT_STEPS = 4;

interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runAgent(args: string[]): Promise<AgentRun> {
  const env = { ...process.env };
  delete env.AUTH_SECRET; // use the server's dev sign-in, as a developer would
  const child = spawn(process.execPath, [`${ROOT}packages/server/dist/cli/agent.js`, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('agent simulator', () => {
  it("shows the agent's updates live in an open dashboard", async () => {
    // This file has its own Redis, so a readable id is safe (and reads well in the README).
    const user = 'ada';
    const page = await openDashboard(await e2e.device(), e2e.baseUrl, user, WORKSPACE);
    await waitForSyncStatus(page, 'synced');
    await page.locator(tid('project-select')).selectOption('proj-apollo');
    await page.locator(tid('add-alert')).click();
    await page.locator(tid('add-activity')).click();
    // The agent reads what the server holds: let the person's changes land there first.
    const token = await devToken(e2e.baseUrl, user, WORKSPACE);
    await expect
      .poll(async () => (await serverState(e2e.baseUrl, token))?.state.widgets.activity, {
        timeout: 10_000,
      })
      .not.toBeNull();

    const run = await runAgent([
      '--user',
      user,
      '--workspace',
      WORKSPACE,
      '--url',
      e2e.baseUrl,
      '--count',
      String(AGENT_STEPS),
      '--interval',
      '300',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/msg="saved"/g)).toHaveLength(AGENT_STEPS);

    // The person's own entry plus one per agent step, and the alert of the third step.
    await waitForActivityCount(page, AGENT_STEPS + 1, 10_000);
    await expect.poll(() => page.locator(tid('alert-item')).count(), { timeout: 10_000 }).toBe(2);
    const feed = await page.locator(tid('widget-activity')).textContent();
    expect(feed).toContain('insights-agent');
    expect(await page.locator(tid('project-progress')).textContent()).not.toBe('62%');

    // No hover or focus ring from the last click in the picture.
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    mkdirSync(`${ROOT}e2e/artifacts`, { recursive: true });
    mkdirSync(`${ROOT}docs`, { recursive: true });
    await page.screenshot({ path: `${ROOT}e2e/artifacts/dashboard.png`, fullPage: true });
    // The committed copy changes only on request, so a test run leaves the tree clean.
    const docsShot = `${ROOT}docs/dashboard.png`;
    if (!existsSync(docsShot) || process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      copyFileSync(`${ROOT}e2e/artifacts/dashboard.png`, docsShot);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ROOT}e2e/artifacts/dashboard-phone.png`, fullPage: true });
  });
});
