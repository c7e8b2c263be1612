// Cross-tab deltas (a tab's `patch` message; not the server's JSON Patch, server/patch.ts). A burst of updates to a 100 KB dashboard usually touches one widget;
// cloning the whole state into every BroadcastChannel message would cost the writing
// tab more main-thread time than the storage writes it saves. So after the first full
// state, a tab sends only the slices that changed (found by reference, like content/refs.ts),
// with the stamp of the content they apply to. A tab holding other content asks the
// sender for its full state instead of guessing.
import type { DashboardState, DashboardWidgets } from '@hyvve/schema';
import type { ContentRefs } from '../content/refs.js';

export interface ContentChanges {
  activeProject?: string | null;
  widgets?: Partial<DashboardWidgets>;
}

const WIDGET_KEYS = ['projectStatus', 'metrics', 'activity', 'alerts'] as const;

/**
 * What changed between `base` and `state`, or null when a delta cannot express it
 * (workspace or user changed): then the full state is sent.
 */
export function diffContent(base: ContentRefs, state: DashboardState): ContentChanges | null {
  if (state.workspaceId !== base.workspaceId || state.userId !== base.userId) return null;
  const changes: ContentChanges = {};
  if (state.activeProject !== base.activeProject) changes.activeProject = state.activeProject;
  if (state.widgets !== base.widgets) {
    const widgets: Partial<DashboardWidgets> = {};
    for (const key of WIDGET_KEYS) {
      if (state.widgets[key] !== base.widgets[key])
        Object.assign(widgets, { [key]: state.widgets[key] });
    }
    changes.widgets = widgets;
  }
  return changes;
}

/** `base` with `changes` applied and the new content timestamp. Unchecked: validate it. */
export function applyChanges(
  base: DashboardState,
  changes: ContentChanges,
  timestamp: number,
): Record<string, unknown> {
  return {
    ...base,
    timestamp,
    ...('activeProject' in changes ? { activeProject: changes.activeProject } : {}),
    widgets: { ...base.widgets, ...changes.widgets },
  };
}
