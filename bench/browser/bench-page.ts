// Builds the bench page with Vite from the client's sources (the same code the web app
// uses) and serves the build, proxying the API (HTTP and WebSocket) to our server so
// the page talks to it same-origin, as the dashboard does in production.
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import { freePort } from '../../test-support/redis-server.js';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const pageRoot = source('./page');
const outDir = source('../results/tmp/bench-page');

const alias = {
  '@hyvve/client': source('../../packages/client/src/index.ts'),
  '@hyvve/schema': source('../../packages/schema/src/index.ts'),
};

let built: Promise<unknown> | null = null;

/** Builds once per run (every browser benchmark shares the build). */
export async function buildBenchPage(): Promise<void> {
  built ??= build({
    root: pageRoot,
    configFile: false,
    logLevel: 'warn',
    resolve: { alias },
    // Not minified: page profiles (--profile) then name the functions. Both contenders
    // are built the same way, so the comparison is unaffected.
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, minify: false },
  });
  await built;
}

export interface BenchPageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the built page; `apiTarget` (our server's URL) receives /api, WebSockets included. */
export async function serveBenchPage(apiTarget?: string): Promise<BenchPageServer> {
  const port = await freePort();
  const server = await preview({
    root: pageRoot,
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: {
      host: '127.0.0.1',
      port,
      strictPort: true,
      ...(apiTarget ? { proxy: { '/api': { target: apiTarget, ws: true } } } : {}),
    },
  });
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
