import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { type MigrationTable, migrateDashboardState, STATE_VERSION } from '../src/index.js';

// A test-only version 0: flat `alerts` and `savedAt` instead of `widgets.alerts` and `timestamp`.
function makeVersionZero() {
  const current = makeState();
  const { widgets, timestamp, ...rest } = current;
  return {
    ...rest,
    version: 0,
    savedAt: timestamp,
    alerts: widgets.alerts,
    widgets: { projectStatus: widgets.projectStatus, metrics: widgets.metrics, activity: null },
  };
}

const zeroToOne: MigrationTable = {
  0: (old) => {
    const { alerts, savedAt, widgets, ...rest } = old as Record<string, unknown> & {
      widgets: Record<string, unknown>;
    };
    return { ...rest, version: 1, timestamp: savedAt, widgets: { ...widgets, alerts } };
  },
};

describe('migrateDashboardState', () => {
  it('passes a current-version state through validation', () => {
    const state = makeState();
    const result = migrateDashboardState(state);
    expect(result).toEqual({ success: true, data: state });
  });

  it('upgrades an older version through the table', () => {
    const old = makeVersionZero();
    const result = migrateDashboardState(old, zeroToOne);
    if (!result.success) throw new Error(result.error.message);
    expect(result.data.version).toBe(STATE_VERSION);
    expect(result.data.timestamp).toBe(old.savedAt);
    expect(result.data.widgets.alerts).toEqual(old.alerts);
  });

  it('fails for an older version without a migration', () => {
    const result = migrateDashboardState(makeVersionZero());
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.message).toContain('no migration from version 0');
  });

  it('fails for a newer version than supported', () => {
    const result = migrateDashboardState({ ...makeState(), version: STATE_VERSION + 1 });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.message).toContain('newer than supported');
  });

  it('fails when a migration throws or skips a version', () => {
    const throwing: MigrationTable = {
      0: () => {
        throw new Error('bad data');
      },
    };
    const thrown = migrateDashboardState(makeVersionZero(), throwing);
    expect(thrown.success).toBe(false);
    if (!thrown.success) expect(thrown.error.message).toContain('bad data');

    const skipping: MigrationTable = { 0: (old) => ({ ...old, version: 5 }) };
    const skipped = migrateDashboardState(makeVersionZero(), skipping);
    expect(skipped.success).toBe(false);
    if (!skipped.success) expect(skipped.error.message).toContain('did not produce 1');
  });

  it('fails for non-objects and missing versions', () => {
    expect(migrateDashboardState(null).success).toBe(false);
    expect(migrateDashboardState([]).success).toBe(false);
    const noVersion = migrateDashboardState({ widgets: {} });
    expect(noVersion.success).toBe(false);
    if (!noVersion.success) expect(noVersion.error.path).toBe('version');
  });

  it('names the path, the reason and the single issue of each failure', () => {
    const failure = (input: unknown, migrations?: MigrationTable) => {
      const result = migrateDashboardState(input, migrations);
      return result.success ? undefined : result.error;
    };
    const expected = (path: string, message: string) => ({
      message: `${path}: ${message}`,
      path,
      issues: [{ path, message }],
    });
    expect(failure('state')).toEqual(expected('(root)', 'expected an object'));
    const current = makeState();
    for (const version of ['1', 1.5, null, undefined]) {
      expect(failure({ ...current, version })).toEqual(
        expected('version', 'expected an integer version'),
      );
    }
    expect(failure({ ...current, version: STATE_VERSION + 1 })).toEqual(
      expected('version', `version ${STATE_VERSION + 1} is newer than supported ${STATE_VERSION}`),
    );
    expect(failure(makeVersionZero(), {})).toEqual(
      expected('version', 'no migration from version 0'),
    );
    const throwing: MigrationTable = {
      0: () => {
        throw new Error('bad shape');
      },
    };
    expect(failure(makeVersionZero(), throwing)).toEqual(
      expected('version', 'migration from version 0 failed: bad shape'),
    );
    const skipping: MigrationTable = { 0: (old) => ({ ...old, version: 5 }) };
    expect(failure(makeVersionZero(), skipping)).toEqual(
      expected('version', 'migration from version 0 did not produce 1'),
    );
  });

  it('fails when the migrated state does not validate', () => {
    const broken: MigrationTable = { 0: (old) => ({ ...old, version: 1 }) };
    const result = migrateDashboardState(makeVersionZero(), broken);
    expect(result.success).toBe(false);
  });
});
