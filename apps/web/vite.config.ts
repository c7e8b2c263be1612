// Dev: `npm run dev -w @hyvve/web` serves the page on 5173 and proxies the API (HTTP and
// WebSocket) to a server on 127.0.0.1:3000. Build: `vite build` -> apps/web/dist, which
// the server serves at `/`, with the service worker `sw.js` (built from sw/service-worker.ts
// by vite-plugin-pwa, its precache list injected) that lets the page open offline.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'service-worker.ts',
      // main.tsx registers it (production builds only, where the browser allows it).
      injectRegister: false,
      // An app shell for offline reloads, not an installable app: no web manifest.
      manifest: false,
      injectManifest: {
        // The shell: the page, its hashed scripts and styles, the icon. Source maps are
        // for developers and stay on the server.
        globPatterns: ['**/*.{html,js,css,svg}'],
        globIgnores: ['**/*.map', 'service-worker.js'],
        // A classic worker script: module workers are not everywhere that workers are.
        rollupFormat: 'iife',
      },
    }),
  ],
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
