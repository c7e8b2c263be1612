// What "the persistable part changed" means, decided by reference, never by
// serialising: the store replaces `widgets` (and the scalar fields) on every real
// change, so four identity checks replace a 100 KB JSON.stringify per update.
import type { DashboardState } from '@hyvve/schema';

export interface ContentRefs {
  readonly widgets: DashboardState['widgets'];
  readonly activeProject: string | null;
  readonly workspaceId: string | undefined;
  readonly userId: string | undefined;
}

export function refsOf(state: DashboardState): ContentRefs {
  return {
    widgets: state.widgets,
    activeProject: state.activeProject,
    workspaceId: state.workspaceId,
    userId: state.userId,
  };
}

export function sameContent(
  a: ContentRefs | DashboardState | null,
  b: ContentRefs | DashboardState | null,
): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.widgets === b.widgets &&
    a.activeProject === b.activeProject &&
    a.workspaceId === b.workspaceId &&
    a.userId === b.userId
  );
}

/** An empty dashboard holds nothing a user could lose, so stored or remote data may replace it. */
export function isEmptyDashboard(state: DashboardState): boolean {
  const { projectStatus, metrics, activity, alerts } = state.widgets;
  return (
    state.activeProject === null &&
    projectStatus === null &&
    metrics === null &&
    activity === null &&
    alerts.length === 0
  );
}

export interface Versioned {
  timestamp: number;
  origin: string;
}

/**
 * Newer wins; equal timestamps are broken by comparing origins, so every tab and
 * device picks the same winner and concurrent edits converge instead of flapping.
 */
export function isNewer(incoming: Versioned, current: Versioned): boolean {
  if (incoming.timestamp !== current.timestamp) return incoming.timestamp > current.timestamp;
  return incoming.origin > current.origin;
}
