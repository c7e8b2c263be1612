// The one check every state from elsewhere passes before it is applied (another tab, a
// server broadcast, a conflict answer): validated and migrated by the schema package; an
// invalid one is reported with where it came from and the path that failed, never applied.
import { type DashboardState, type MigrationTable, migrateDashboardState } from '@hyvve/schema';
import { InvalidPersistedStateError } from '../errors.js';

/** The state, valid at the current version; null (reported) when it is not. */
export function checkState(
  raw: unknown,
  source: string,
  migrations: MigrationTable | undefined,
  report: (error: InvalidPersistedStateError) => void,
): DashboardState | null {
  const result = migrateDashboardState(raw, migrations);
  if (result.success) return result.data;
  report(new InvalidPersistedStateError(source, result.error.path, result.error.message));
  return null;
}
