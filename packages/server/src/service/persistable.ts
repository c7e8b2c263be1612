// What a save stores, checked: the state validated with transient parts reset, its owner
// against the scope, its timestamp against the server clock, and its JSON (the received
// text when it is already canonical).
import {
  canonicalJsonEnd,
  type DashboardState,
  isCompleteDashboardState,
  isPersistableAsIs,
  toPersistableState,
  validateDashboardState,
} from '@hyvve/schema';
import { ClockAheadError, InvalidStateError } from '../errors.js';
import type { StateScope } from '../scope.js';
import type { StateSource } from './service-types.js';

/**
 * A state may leave out `workspaceId` and `userId`, but may not name another workspace
 * or user than the one it is saved for: the stored copy would lie about its owner.
 */
export function checkOwner(state: DashboardState, scope: StateScope): void {
  if (state.workspaceId !== undefined && state.workspaceId !== scope.workspaceId) {
    throw new InvalidStateError(
      'workspaceId',
      'workspaceId: names another workspace than the one it is saved for',
    );
  }
  if (state.userId !== undefined && state.userId !== scope.userId) {
    throw new InvalidStateError(
      'userId',
      'userId: names another user than the one it is saved for',
    );
  }
}

/** The state's JSON: the received text when it is exactly canonical, else serialised. */
export function serialise(state: DashboardState, source: StateSource | undefined): string {
  if (source) {
    const end = canonicalJsonEnd(state, source.text, source.start);
    if (end > 0) return source.text.slice(source.start, end);
  }
  return JSON.stringify(state);
}

/** Refuses a timestamp from a clock too far ahead (it would win every later comparison). */
export function checkClock(timestamp: number, now: number, maxClockSkewMs: number): void {
  const ahead = timestamp - now;
  if (ahead > maxClockSkewMs) {
    throw new ClockAheadError(
      `timestamp: ${timestamp} is ${Math.round(ahead)} ms ahead of the server clock ` +
        `(at most ${maxClockSkewMs} ms allowed; check the device clock)`,
      now,
    );
  }
}

/** The state as it will be stored: validated, defaults applied, transient parts reset. */
export function persistable(input: unknown): DashboardState {
  // Checked in place first: Zod's validated copy is garbage on the hot path, so it is
  // built only when defaults must be applied or keys stripped, or to name a failure.
  let state: DashboardState;
  if (isCompleteDashboardState(input)) {
    state = input;
  } else {
    const validated = validateDashboardState(input);
    if (!validated.success) {
      throw new InvalidStateError(validated.error.path, validated.error.message);
    }
    state = validated.data;
  }
  return isPersistableAsIs(state) ? state : toPersistableState(state);
}
