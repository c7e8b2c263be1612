// The engine harness (harness/): built once per run with Vite against the BUILT client
// package, and loaded as a module script into a page the real server served (the
// dashboard's sign-in page, signed out: no engine of its own runs), so its engine talks
// to the server same-origin, as the dashboard does. The script is served through
// Playwright routing; the document is not, because Chromium's local-network checks
// refuse sockets to 127.0.0.1 from a document that did not come from there.
import { readFileSync } from 'node:fs';
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
    // Replaced on every build (emptyOutDir); git ignores node_modules.
    const outDir = fileURLToPath(new URL('../../node_modules/.cache/e2e-harness', import.meta.url));
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

/** Opens the harness in a new tab of `context`: the server's page, plus the harness script. */
export async function openHarness(context: BrowserContext, baseUrl: string): Promise<Page> {
  const outDir = await buildHarness();
  const entry = /src="([^"]+\.js)"/.exec(readFileSync(join(outDir, 'index.html'), 'utf8'))?.[1];
  if (!entry) throw new Error(`no script in the harness build ${outDir}/index.html`);
  await context.route(`${baseUrl}${BASE}**`, (route) => {
    const path = new URL(route.request().url()).pathname.slice(BASE.length);
    const body = readFileSync(join(outDir, path));
    return route.fulfill({ body, contentType: TYPES[extname(path)] ?? 'application/octet-stream' });
  });
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page.locator('[data-testid="signin-submit"]').waitFor();
  await page.addScriptTag({ url: entry, type: 'module' });
  await page.waitForFunction(() => 'harness' in window);
  return page;
}
