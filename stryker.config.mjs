// Mutation testing (docs/MUTATION.md): `npm run mutation`, or one module at a time with
// `npm run mutation -- --mutate 'packages/schema/src/merge-states.ts'`. Not part of
// `npm test`: every mutant re-runs the tests that cover it. Client and server files are
// named by basename under `src/**`, so the list survives moving them into role folders.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  // The machine running it is usually shared; raise with --concurrency on a free one.
  concurrency: 2,
  timeoutMS: 20000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['apps', 'bench', 'e2e', 'docs', 'ops', 'reports', 'coverage', '**/dist'],
  thresholds: { high: 90, low: 85, break: null },
  mutate: [
    // schema: merge, merge-patch, JSON patch, size, migrations, persistable, validation
    'packages/schema/src/merge-states.ts',
    'packages/schema/src/merge-patch.ts',
    'packages/schema/src/state-patch.ts',
    'packages/schema/src/json-pointer.ts',
    'packages/schema/src/size.ts',
    'packages/schema/src/migrations.ts',
    'packages/schema/src/persistable.ts',
    'packages/schema/src/validate.ts',
    'packages/schema/src/fast-validate.ts',
    // client decisions: sync decisions and merge, save pacing, local-storage envelope, TTL
    'packages/client/src/server/decisions.ts',
    'packages/client/src/server/merge.ts',
    'packages/client/src/timing/pacing.ts',
    'packages/client/src/storage/envelope.ts',
    'packages/client/src/**/persisted-state.ts',
    // server rules: conditional headers, channel patch, clock and owner checks, limits
    'packages/server/src/**/conditional-headers.ts',
    'packages/server/src/**/channel-patch.ts',
    'packages/server/src/**/socket-token-lifetime.ts',
    // The service's rules: checkClock, checkOwner and the persistable state.
    'packages/server/src/service/persistable.ts',
    'packages/server/src/rate-limit/token-buckets.ts',
    'packages/server/src/**/request-limiter.ts',
    'packages/server/src/rate-limit/ip-leases.ts',
    'packages/server/src/rate-limit/user-limit.ts',
    'packages/server/src/**/frame-limit.ts',
  ],
};
