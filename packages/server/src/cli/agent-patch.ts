// The agent's step as a JSON Patch (RFC 6902) of only what the agent changed, so the
// server applies it to the state as stored at that moment (PATCH): a user's edit made
// after the agent read the state (an alert dismissed, an activity removed) is kept.
// Every item the patch addresses by index is first checked with a `test` of its id: if
// the user moved things meanwhile, the server answers 409 and the agent rebuilds the step
// on the newer state instead of writing into the wrong item.
import type { DashboardState, JsonPatchDocument } from '@hyvve/schema';

type Operation = JsonPatchDocument[number];

interface Item {
  id: string;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Operations turning the list `before` into `after` at `path`, for the changes an agent
 * makes: items removed, items changed in place, items added (at their index in `after`;
 * the kept items stay in the same order).
 */
export function listPatch<T extends Item>(
  path: string,
  before: readonly T[],
  after: readonly T[],
): Operation[] {
  const operations: Operation[] = [];
  const afterById = new Map(after.map((item) => [item.id, item]));
  const beforeIds = new Set(before.map((item) => item.id));
  const ids = before.map((item) => item.id);
  // Removals from the end, so each index is still the item's own.
  for (let index = before.length - 1; index >= 0; index--) {
    const id = ids[index] as string;
    if (afterById.has(id)) continue;
    operations.push({ op: 'test', path: `${path}/${index}/id`, value: id });
    operations.push({ op: 'remove', path: `${path}/${index}` });
    ids.splice(index, 1);
  }
  for (const item of before) {
    const changed = afterById.get(item.id);
    if (changed === undefined || same(changed, item)) continue;
    const at = ids.indexOf(item.id);
    operations.push({ op: 'test', path: `${path}/${at}/id`, value: item.id });
    operations.push({ op: 'replace', path: `${path}/${at}`, value: changed });
  }
  for (const [index, item] of after.entries()) {
    if (beforeIds.has(item.id)) continue;
    operations.push({ op: 'add', path: `${path}/${index}`, value: item });
    ids.splice(index, 0, item.id);
  }
  return operations;
}

/** A widget the agent replaces as a whole, checked to be what it read (null or absent). */
function wholeValue(path: string, before: unknown, after: unknown): Operation[] {
  if (same(before, after)) return [];
  return [
    { op: 'test', path, value: before },
    { op: 'replace', path, value: after },
  ];
}

/**
 * The patch from `before` (the state the agent read) to `after` (its step applied). The
 * top-level `timestamp` is left to the server, which stamps a patched state no older
 * than the stored one.
 */
export function agentStepPatch(before: DashboardState, after: DashboardState): JsonPatchDocument {
  const operations: Operation[] = [];
  operations.push(...wholeValue('/activeProject', before.activeProject, after.activeProject));
  // The project status widget is the agent's: it reports progress as a whole.
  if (!same(before.widgets.projectStatus, after.widgets.projectStatus)) {
    operations.push({
      op: 'replace',
      path: '/widgets/projectStatus',
      value: after.widgets.projectStatus,
    });
  }
  const metricsBefore = before.widgets.metrics;
  const metricsAfter = after.widgets.metrics;
  if (metricsBefore === null || metricsAfter === null || metricsBefore.metrics.length === 0) {
    operations.push(...wholeValue('/widgets/metrics', metricsBefore, metricsAfter));
  } else {
    operations.push(
      ...listPatch('/widgets/metrics/metrics', metricsBefore.metrics, metricsAfter.metrics),
    );
    if (metricsBefore.lastUpdated !== metricsAfter.lastUpdated) {
      operations.push({
        op: 'replace',
        path: '/widgets/metrics/lastUpdated',
        value: metricsAfter.lastUpdated,
      });
    }
  }
  const activityBefore = before.widgets.activity;
  const activityAfter = after.widgets.activity;
  if (activityBefore === null || activityAfter === null) {
    operations.push(...wholeValue('/widgets/activity', activityBefore, activityAfter));
  } else {
    operations.push(
      ...listPatch(
        '/widgets/activity/activities',
        activityBefore.activities,
        activityAfter.activities,
      ),
    );
    if (activityBefore.lastUpdated !== activityAfter.lastUpdated) {
      operations.push({
        op: 'replace',
        path: '/widgets/activity/lastUpdated',
        value: activityAfter.lastUpdated,
      });
    }
  }
  operations.push(...listPatch('/widgets/alerts', before.widgets.alerts, after.widgets.alerts));
  return operations;
}
