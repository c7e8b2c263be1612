import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// fast-check and the fuzz suites draw a fresh seed per run, printed once; FC_SEED replays it.
const seeded = {
  globalSetup: ['./test-support/seed-global-setup.ts'],
  setupFiles: ['./test-support/fast-check-seed.ts'],
};

// Workspace packages resolve to their TypeScript sources in tests, so no build is
// needed to run a unit test and coverage maps to the real files.
const alias = {
  '@hyvve/schema': src('./packages/schema/src/index.ts'),
  '@hyvve/server': src('./packages/server/src/index.ts'),
  '@hyvve/client': src('./packages/client/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    restoreMocks: true,
    coverage: {
      provider: 'v8',
      include: ['packages/schema/src/**', 'packages/server/src/**', 'packages/client/src/**'],
      exclude: ['**/index.ts', '**/cli/**', '**/main.ts', '**/*.d.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: {
        'packages/schema/src/**': { lines: 85 },
        'packages/server/src/**': { lines: 85 },
        'packages/client/src/**': { lines: 85 },
      },
    },
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'schema',
          ...seeded,
          include: ['packages/schema/test/**/*.test.ts'],
          restoreMocks: true,
          // Property tests take up to ~0.8 s alone; a loaded 2-core machine can be 6 × slower.
          testTimeout: 20000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'server',
          ...seeded,
          include: ['packages/server/test/**/*.test.ts'],
          restoreMocks: true,
          testTimeout: 20000,
          hookTimeout: 20000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'client',
          ...seeded,
          include: ['packages/client/test/**/*.test.{ts,tsx}'],
          restoreMocks: true,
          testTimeout: 20000,
          hookTimeout: 20000,
        },
      },
      {
        test: {
          name: 'scripts',
          include: ['scripts/test/**/*.test.ts'],
          testTimeout: 600000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          testTimeout: 60000,
          hookTimeout: 120000,
          fileParallelism: false,
        },
      },
    ],
  },
});
