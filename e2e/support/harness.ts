// The engine harness page (harness/): built once per run with Vite against the BUILT
// client package, and served on the stack's own origin through Playwright routing, so
// its engine talks to the real server same-origin, as the dashboard does.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('./harness', import.meta.url));
const BASE = '/harness/';
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

let built: Promise<string> | null = null;

function buildHarness(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'hyvve-harness-'));
    await build({
      root: ROOT,
      base: BASE,
      configFile: false,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, target: 'es2022', minify: false },
    });
    return outDir;
  })();
  return built;
}

/** What the harness page exposes as `window.harness`. */
export interface HarnessApi {
  setToken(token: string): void;
  start(): void;
  dropSocket(): void;
  setActiveProject(project: string): void;
  activeProject(): string | null;
  syncStatus(): string;
  stored(): string | null;
}

/** Opens the harness in a new tab of `context`, served at `${baseUrl}/harness/`. */
export async function openHarness(context: BrowserContext, baseUrl: string): Promise<Page> {
  const outDir = await buildHarness();
  await context.route(`${baseUrl}${BASE}**`, (route) => {
    const path = new URL(route.request().url()).pathname.slice(BASE.length) || 'index.html';
    const body = readFileSync(join(outDir, path));
    return route.fulfill({ body, contentType: TYPES[extname(path)] ?? 'application/octet-stream' });
  });
  const page = await context.newPage();
  await page.goto(`${baseUrl}${BASE}`);
  await page.waitForFunction(() => 'harness' in window);
  return page;
}
