// Server `patch` messages against the client's copy of the server state. The server
// sends, per change, the JSON Patch from the state at `baseRevision` to the one at
// `revision`; it applies only to exactly that base. The client holds one copy of the
// server state (the last it knew, with its revision) and applies a patch only when the
// revisions match; anything else means "ask for the full state", never "guess".
import {
  applyStatePatch,
  type DashboardState,
  type MigrationTable,
  migrateDashboardState,
  type StatePatch,
  StatePatchError,
} from '@hyvve/schema';

/** The last state known to be stored on the server, and the revision it is stored at. */
export interface ServerCopy {
  readonly state: DashboardState;
  readonly revision: number;
}

export interface ServerPatch {
  revision: number;
  baseRevision: number;
  patch: StatePatch;
}

export type PatchOutcome =
  | { kind: 'applied'; state: DashboardState }
  /** The copy is not the patch's base (or none is held): expected now and then. */
  | { kind: 'no-base'; reason: string }
  /** The patch did not apply to its base, or its result is not a valid state. */
  | { kind: 'failed'; reason: string };

/** The state at `message.revision`, or why it cannot be built from `copy`. */
export function applyServerPatch(
  copy: ServerCopy | null,
  message: ServerPatch,
  migrations?: MigrationTable,
): PatchOutcome {
  if (copy === null) return { kind: 'no-base', reason: 'no server state held' };
  if (copy.revision !== message.baseRevision) {
    return { kind: 'no-base', reason: `held revision ${copy.revision} is not the base` };
  }
  let patched: unknown;
  try {
    patched = applyStatePatch(copy.state, message.patch);
  } catch (error) {
    // Anything else thrown here is a bug in this package, not a bad patch.
    if (!(error instanceof StatePatchError)) throw error;
    return { kind: 'failed', reason: error.message };
  }
  const checked = migrateDashboardState(patched, migrations);
  if (!checked.success) {
    return {
      kind: 'failed',
      reason: `patched state is invalid at ${checked.error.path}: ${checked.error.message}`,
    };
  }
  return { kind: 'applied', state: checked.data };
}
