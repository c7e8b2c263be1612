// What "the persistable part changed" means, decided by reference, never by
// serialising: the store replaces `widgets` (and the scalar fields) on every real
// change, so four identity checks replace a 100 KB JSON.stringify per update. Only where
// two copies were built apart (a merge, a server copy) is content compared by value.
import { type DashboardState, jsonEqual } from '@hyvve/schema';

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

/** Same persistable content (timestamps and transient parts aside), compared by value. */
export function sameStateContent(a: DashboardState, b: DashboardState): boolean {
  return (
    a.activeProject === b.activeProject &&
    a.workspaceId === b.workspaceId &&
    a.userId === b.userId &&
    jsonEqual(a.widgets, b.widgets)
  );
}
