// The package's entries export exactly the public API: a new export is a decision made
// here, not a side effect of `export *` (internals stay free to change).
import { describe, expect, it } from 'vitest';
import * as client from '../src/index.js';
import * as react from '../src/react.js';

const HOOKS = [
  'useActivity',
  'useAlerts',
  'useDashboardState',
  'useDashboardStateWithPersistence',
  'useErrors',
  'useIsLoading',
  'useMetrics',
  'useProjectStatus',
  'useStatePersistence',
];

describe('public API', () => {
  it("'.' exports the engine, the store, the hooks, the errors and nothing internal", () => {
    expect(Object.keys(client).sort()).toEqual(
      [
        ...HOOKS,
        'createStatePersistence',
        'createNoopPersistence',
        'createDashboardStore',
        'selectDashboardState',
        'selectActivity',
        'selectAlerts',
        'selectErrors',
        'selectIsLoading',
        'selectMetrics',
        'selectProjectStatus',
        'clearPersistedState',
        'hasPersistedState',
        'PersistenceError',
        'CrossTabError',
        'InvalidPersistedStateError',
        'ServerRejectedError',
        'ServerUnreachableError',
        'StateTooLargeError',
        'StorageAccessError',
        'StorageQuotaError',
        'TokenError',
      ].sort(),
    );
  });

  it("'./react' exports the hooks only, the same functions as '.'", () => {
    expect(Object.keys(react).sort()).toEqual([...HOOKS].sort());
    // Copied into plain records: the check walks the names, which namespace objects dislike.
    const fromReact: Record<string, unknown> = { ...react };
    const fromRoot: Record<string, unknown> = { ...client };
    for (const name of HOOKS) expect(fromReact[name]).toBe(fromRoot[name]);
  });
});
