// Vitest set-up for mutation testing (stryker.config.mjs): the unit tests of the modules
// whose rules the product promises, in one project, without e2e, scripts or the long
// Redis-backed suites (a mutant run repeats them hundreds of times). The Redis-backed
// files kept here are the ones that check a listed rule end to end (clock skew and owner
// checks through the service, the shared rate limit).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@hyvve/schema': src('./packages/schema/src/index.ts'),
      '@hyvve/server': src('./packages/server/src/index.ts'),
      '@hyvve/client': src('./packages/client/src/index.ts'),
    },
  },
  test: {
    restoreMocks: true,
    testTimeout: 30000,
    hookTimeout: 30000,
    setupFiles: ['./test-support/fast-check-seed.ts'],
    // One fixed seed, so a mutant is killed or not the same way on every run.
    env: { FC_SEED: process.env.FC_SEED ?? '20261129' },
    include: [
      'packages/schema/test/**/*.test.ts',
      'packages/client/test/{sync-decisions,sync-merge,save-pacing,local-storage,persisted-state,engine-storage,store,debounce,sync-outbox,sync-lost-save,server-clock}.test.ts',
      'packages/client/test/server-sync.{protocol,resync}.test.ts',
      'packages/server/test/{frame-limit,conditional-headers,channel-event,published-patch,patch-compose,rate-limiter,clock-skew,socket-token,socket-message-gate,token-policy,config,state-persistence-service,shared-rate-limit,token-bucket-twin,save-cost,plugin-host,write-coalescer,token-buckets,user-limit,ip-leases,request-limiter,persistable}.test.ts',
    ],
  },
});
