// Versioned migrations: each entry upgrades a persisted state from version N to N + 1.
// Loading runs them in order up to STATE_VERSION, then validates the result.
import { STATE_VERSION } from './constants.js';
import type { DashboardState } from './dashboard-state.js';
import { type ValidationResult, validateDashboardState } from './validate.js';

export type StateRecord = Record<string, unknown>;
/** Upgrades a state of version N (the table key) to version N + 1. */
export type Migration = (state: StateRecord) => StateRecord;
export type MigrationTable = Readonly<Record<number, Migration>>;

/** Version 1 is the first shape: nothing to migrate yet. */
export const DASHBOARD_STATE_MIGRATIONS: MigrationTable = {};

function fail(path: string, message: string): ValidationResult<never> {
  return {
    success: false,
    error: { message: `${path}: ${message}`, path, issues: [{ path, message }] },
  };
}

function isRecord(value: unknown): value is StateRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Brings a persisted state of any known version to the current one and validates it.
 * Fails (never throws) for a newer version, a gap in the table or a migration that
 * does not produce the next version.
 */
export function migrateDashboardState(
  input: unknown,
  migrations: MigrationTable = DASHBOARD_STATE_MIGRATIONS,
): ValidationResult<DashboardState> {
  if (!isRecord(input)) return fail('(root)', 'expected an object');
  let state: StateRecord = input;
  const initialVersion = state.version;
  // Number.isInteger is false for every non-number.
  if (!Number.isInteger(initialVersion)) {
    return fail('version', 'expected an integer version');
  }
  let version = initialVersion as number;
  if (version > STATE_VERSION) {
    return fail('version', `version ${version} is newer than supported ${STATE_VERSION}`);
  }
  while (version < STATE_VERSION) {
    const migrate = migrations[version];
    if (!migrate) return fail('version', `no migration from version ${version}`);
    try {
      state = migrate(state);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return fail('version', `migration from version ${version} failed: ${reason}`);
    }
    if (!isRecord(state) || state.version !== version + 1) {
      return fail('version', `migration from version ${version} did not produce ${version + 1}`);
    }
    version += 1;
  }
  return validateDashboardState(state);
}
