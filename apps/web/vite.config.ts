// Dev: `npm run dev -w @hyvve/web` serves the page on 5173 and proxies the API (HTTP and
// WebSocket) to a server on 127.0.0.1:3000. Build: `vite build` -> apps/web/dist, which
// the server serves at `/`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The workspace packages resolve to their TypeScript sources, so the page is built
    // from (and type-checked against) the same code the tests run, with no stale dist.
    alias: {
      '@hyvve/client': source('../../packages/client/src/index.ts'),
      '@hyvve/schema': source('../../packages/schema/src/index.ts'),
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: 'http://127.0.0.1:3000', ws: true },
      '/healthz': 'http://127.0.0.1:3000',
      '/readyz': 'http://127.0.0.1:3000',
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
});
