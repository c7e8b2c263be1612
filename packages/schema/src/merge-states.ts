// Three-way merge of dashboard states (ARCHITECTURE.md, "Merging concurrent changes").
// Two copies that went apart from a common `base` (two devices, two tabs, a device and an
// agent) are merged per field instead of one replacing the other:
//
// | where                                   | rule                                                    |
// |-----------------------------------------|---------------------------------------------------------|
// | a value changed on one side only        | that side's value                                       |
// | lists of items with an `id`             | by id: added on either side → kept; removed on either   |
// |   (alerts, activities, metrics)         | side → removed; changed on both → the newer side's item |
// | the same value changed on both sides    | the newer side's value                                  |
// | alerts / activities over their limit    | the newest items (by item `timestamp`) are kept         |
//
// "Newer side" is decided once per merge, so a result never mixes halves of one conflict:
// first the server revision each side's changes were made on (a change made after seeing
// more of the server's history is the later one, whatever the device clocks say), then
// `state.timestamp`, then `origin`, and last the content itself, so every device that
// merges the same pair reaches the same state. Pure, synchronous, no I/O: runs in the
// browser and in Node.
import { MAX_ACTIVITIES, MAX_ALERTS } from './constants.js';
import type {
  ActivityWidget,
  DashboardState,
  DashboardWidgets,
  MetricsWidget,
  ProjectStatus,
} from './dashboard-state.js';

/** What orders one side's changes against the other's when both changed the same thing. */
export interface MergeSideOrder {
  /**
   * The server revision this side's changes were made on top of (for a copy received from
   * the server at revision R, at most R - 1). Compared first, so a skewed clock cannot
   * make a change that never saw another one win over it. Absent counts as 0.
   */
  basedOnRevision?: number;
  /** Id of the writer (engine, tab, agent): the tie-break after the timestamp. */
  origin?: string;
}

export interface MergeOrder {
  local?: MergeSideOrder;
  remote?: MergeSideOrder;
}

type Side = 'local' | 'remote';

interface Item {
  id: string;
}

/**
 * `local` and `remote` merged against `base`, the last copy both agreed on (null when
 * they never agreed on one: every value then counts as changed on both sides). The
 * result's `timestamp` is the later of the two; transient parts (`loading`, `errors`)
 * are `local`'s, as they belong to the device that merges. When `local` and `remote` are
 * equal the result is `local` itself. Inputs are not changed; the result shares
 * unchanged parts with them, so treat it as read-only.
 */
export function mergeDashboardStates(
  base: DashboardState | null,
  local: DashboardState,
  remote: DashboardState,
  order: MergeOrder = {},
): DashboardState {
  if (jsonEqual(local, remote)) return local;
  const newer = newerSide(local, remote, order);
  const merger = threeWay(newer);
  const widgets: DashboardWidgets = {
    projectStatus: merger.projectStatus(
      base?.widgets.projectStatus ?? null,
      local.widgets.projectStatus,
      remote.widgets.projectStatus,
    ),
    metrics: merger.metrics(
      base?.widgets.metrics ?? null,
      local.widgets.metrics,
      remote.widgets.metrics,
    ),
    activity: merger.activity(
      base?.widgets.activity ?? null,
      local.widgets.activity,
      remote.widgets.activity,
    ),
    alerts: keepNewest(
      merger.byId(base?.widgets.alerts ?? [], local.widgets.alerts, remote.widgets.alerts),
      MAX_ALERTS,
    ),
  };
  const merged: DashboardState = {
    version: local.version,
    timestamp: Math.max(local.timestamp, remote.timestamp),
    activeProject: merger.value(base?.activeProject, local.activeProject, remote.activeProject),
    widgets,
    loading: local.loading,
    errors: local.errors,
  };
  const workspaceId = merger.value(base?.workspaceId, local.workspaceId, remote.workspaceId);
  if (workspaceId !== undefined) merged.workspaceId = workspaceId;
  const userId = merger.value(base?.userId, local.userId, remote.userId);
  if (userId !== undefined) merged.userId = userId;
  return merged;
}

/** Which side wins a value both changed: revision based on, timestamp, origin, content. */
function newerSide(local: DashboardState, remote: DashboardState, order: MergeOrder): Side {
  const byRevision = (order.local?.basedOnRevision ?? 0) - (order.remote?.basedOnRevision ?? 0);
  if (byRevision !== 0) return byRevision > 0 ? 'local' : 'remote';
  if (local.timestamp !== remote.timestamp) {
    return local.timestamp > remote.timestamp ? 'local' : 'remote';
  }
  const localOrigin = order.local?.origin ?? '';
  const remoteOrigin = order.remote?.origin ?? '';
  if (localOrigin !== remoteOrigin) return localOrigin > remoteOrigin ? 'local' : 'remote';
  // Same everything: the content decides, so both devices pick the same side.
  return JSON.stringify(local) >= JSON.stringify(remote) ? 'local' : 'remote';
}

/**
 * The per-field rules, with the side that wins a value changed on both (closures, not a
 * class: the minifier can rename them, and the browser bundle carries this file).
 */
function threeWay(newer: Side) {
  /** A value as a whole: the changed side's, or the newer side's when both changed it. */
  const value = <T>(base: T | undefined, local: T, remote: T): T => {
    if (jsonEqual(local, remote)) return local;
    if (jsonEqual(base, local)) return remote;
    if (jsonEqual(base, remote)) return local;
    return newer === 'local' ? local : remote;
  };

  /**
   * Items merged by id: added on either side → kept, removed on either side → removed,
   * changed on one side → that side's item, changed on both → the newer side's item.
   * Order: the newer side's, with the other side's additions placed after the item they
   * follow there.
   */
  const byId = <T extends Item>(
    base: readonly T[],
    local: readonly T[],
    remote: readonly T[],
  ): T[] => {
    if (jsonEqual(local, remote)) return local as T[];
    if (jsonEqual(base, local)) return remote as T[];
    if (jsonEqual(base, remote)) return local as T[];
    const baseById = indexById(base);
    const localById = indexById(local);
    const remoteById = indexById(remote);
    const surviving = (id: string): T | undefined => {
      const localItem = localById.get(id);
      const remoteItem = remoteById.get(id);
      if (!baseById.has(id)) return value(undefined, localItem, remoteItem);
      // Removed on either side → removed, even if the other side changed it.
      if (localItem === undefined || remoteItem === undefined) return undefined;
      return value(baseById.get(id), localItem, remoteItem);
    };
    const [first, second] = newer === 'local' ? [local, remote] : [remote, local];
    const merged = new Map<string, T>();
    for (const item of first) {
      const kept = surviving(item.id);
      if (kept !== undefined && !merged.has(item.id)) merged.set(item.id, kept);
    }
    // The other side's additions, each after the item it follows on its own side.
    let order = [...merged.keys()];
    let anchor: string | undefined;
    for (const item of second) {
      if (!merged.has(item.id)) {
        const kept = surviving(item.id);
        if (kept !== undefined) {
          merged.set(item.id, kept);
          const at = anchor === undefined ? 0 : order.indexOf(anchor) + 1;
          order = [...order.slice(0, at), item.id, ...order.slice(at)];
        }
      }
      if (merged.has(item.id)) anchor = item.id;
    }
    return order.map((id) => merged.get(id) as T);
  };

  /**
   * An object merged key by key (`value` rule), with the keys in `merged` already decided.
   * Keys absent on the winning side of a value stay absent (optional fields).
   */
  const fields = <T extends object>(base: T | null, local: T, remote: T, merged: Partial<T>): T => {
    const result: Record<string, unknown> = {};
    const baseRecord = (base ?? {}) as Record<string, unknown>;
    const localRecord = local as Record<string, unknown>;
    const remoteRecord = remote as Record<string, unknown>;
    const keys = new Set([...Object.keys(localRecord), ...Object.keys(remoteRecord)]);
    for (const key of keys) {
      const kept = Object.hasOwn(merged, key)
        ? (merged as Record<string, unknown>)[key]
        : value(baseRecord[key], localRecord[key], remoteRecord[key]);
      if (kept !== undefined) result[key] = kept;
    }
    return result as T;
  };

  return {
    value,
    byId,
    /** Field by field while both sides show the same project; another project is a new widget. */
    projectStatus(
      base: ProjectStatus | null,
      local: ProjectStatus | null,
      remote: ProjectStatus | null,
    ): ProjectStatus | null {
      if (local === null || remote === null || local.projectId !== remote.projectId) {
        return value(base, local, remote);
      }
      const from = base?.projectId === local.projectId ? base : null;
      return fields(from, local, remote, {});
    },
    metrics(
      base: MetricsWidget | null,
      local: MetricsWidget | null,
      remote: MetricsWidget | null,
    ): MetricsWidget | null {
      if (local === null || remote === null) return value(base, local, remote);
      const metrics = byId(base?.metrics ?? [], local.metrics, remote.metrics);
      return fields(base, local, remote, { metrics });
    },
    activity(
      base: ActivityWidget | null,
      local: ActivityWidget | null,
      remote: ActivityWidget | null,
    ): ActivityWidget | null {
      if (local === null || remote === null) return value(base, local, remote);
      const activities = keepNewest(
        byId(base?.activities ?? [], local.activities, remote.activities),
        MAX_ACTIVITIES,
      );
      return fields(base, local, remote, { activities });
    },
  };
}

function indexById<T extends Item>(items: readonly T[]): Map<string, T> {
  const byId = new Map<string, T>();
  for (const item of items) if (!byId.has(item.id)) byId.set(item.id, item);
  return byId;
}

/** At most `limit` items: the newest by `timestamp` (earlier position on a tie), in order. */
function keepNewest<T extends { timestamp: number }>(items: T[], limit: number): T[] {
  if (items.length <= limit) return items;
  const ranked = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.timestamp - a.item.timestamp || a.index - b.index)
    .slice(0, limit)
    .sort((a, b) => a.index - b.index);
  return ranked.map(({ item }) => item);
}

/**
 * Structural equality of JSON values (states are plain JSON); a key whose value is
 * `undefined` counts as absent, and key order does not matter.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  let count = 0;
  for (const key in aRecord) {
    if (aRecord[key] === undefined) continue;
    count++;
    if (!jsonEqual(aRecord[key], bRecord[key])) return false;
  }
  for (const key in bRecord) if (bRecord[key] !== undefined) count--;
  return count === 0;
}
