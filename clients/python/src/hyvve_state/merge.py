"""Three-way merge of dashboard states: a faithful port of packages/schema/src/merge-states.ts
(ARCHITECTURE.md, "Merging concurrent changes"), so an agent merges exactly as the browser.

| where                                 | rule                                                   |
|---------------------------------------|--------------------------------------------------------|
| a value changed on one side only      | that side's value                                      |
| lists of items with an `id`           | by id: added on either side -> kept; removed on either |
|   (alerts, activities, metrics)       | side -> removed; changed on both -> the newer side's   |
| the same value changed on both sides  | the newer side's value                                 |
| alerts / activities over their limit  | the newest items (by item `timestamp`) are kept        |

"Newer side" is decided once per merge: the server revision each side was based on, then
`timestamp`, then `origin`, then the content. JavaScript's `undefined` (an absent key) is
`MISSING` here, distinct from `None` (JSON null). The content tie-break compares compact
JSON text, as the TypeScript does; it can differ from it only for floats written with a
`.0` or characters outside the BMP, and only when everything else is equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from .state import MAX_ACTIVITIES, MAX_ALERTS, DashboardState


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class MergeSideOrder:
    """What orders one side's changes: the revision it was based on, and its writer."""

    based_on_revision: int = 0
    origin: str = ""


def json_equal(a: Any, b: Any) -> bool:
    """Structural equality of JSON values; a key holding MISSING counts as absent."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(json_equal(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return False
        a_keys = {k for k, v in a.items() if v is not MISSING}
        b_keys = {k for k, v in b.items() if v is not MISSING}
        return a_keys == b_keys and all(json_equal(a[k], b[k]) for k in a_keys)
    if isinstance(a, _Missing) or isinstance(b, _Missing):
        return False
    return type(a) is type(b) and a == b


def _js_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _newer_side(
    local: DashboardState, remote: DashboardState, local_order: MergeSideOrder, remote_order: MergeSideOrder
) -> str:
    by_revision = local_order.based_on_revision - remote_order.based_on_revision
    if by_revision != 0:
        return "local" if by_revision > 0 else "remote"
    if local["timestamp"] != remote["timestamp"]:
        return "local" if local["timestamp"] > remote["timestamp"] else "remote"
    if local_order.origin != remote_order.origin:
        return "local" if local_order.origin > remote_order.origin else "remote"
    return "local" if _js_json(local) >= _js_json(remote) else "remote"


def _get(record: Any, key: str) -> Any:
    return record.get(key, MISSING) if isinstance(record, dict) else MISSING


def _index_by_id(items: Sequence[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    by_id: Dict[str, Dict[str, Any]] = {}
    for item in items:
        by_id.setdefault(item["id"], item)
    return by_id


def _keep_newest(items: List[Dict[str, Any]], limit: int) -> List[Dict[str, Any]]:
    """At most `limit` items: the newest by `timestamp` (earlier position on a tie), in order."""
    if len(items) <= limit:
        return items
    ranked = sorted(enumerate(items), key=lambda pair: (-pair[1]["timestamp"], pair[0]))[:limit]
    return [item for _, item in sorted(ranked, key=lambda pair: pair[0])]


class _ThreeWay:
    def __init__(self, newer: str) -> None:
        self.newer = newer

    def value(self, base: Any, local: Any, remote: Any) -> Any:
        if local is remote or json_equal(local, remote):
            return local
        if json_equal(base, local):
            return remote
        if json_equal(base, remote):
            return local
        return local if self.newer == "local" else remote

    def project_status(self, base: Any, local: Any, remote: Any) -> Any:
        if local is None or remote is None or local.get("projectId") != remote.get("projectId"):
            return self.value(base, local, remote)
        from_base = base if isinstance(base, dict) and base.get("projectId") == local.get("projectId") else None
        return self._fields(from_base, local, remote, {})

    def metrics(self, base: Any, local: Any, remote: Any) -> Any:
        if local is None or remote is None:
            return self.value(base, local, remote)
        base_items = base["metrics"] if isinstance(base, dict) else []
        merged = self.by_id(base_items, local["metrics"], remote["metrics"])
        return self._fields(base, local, remote, {"metrics": merged})

    def activity(self, base: Any, local: Any, remote: Any) -> Any:
        if local is None or remote is None:
            return self.value(base, local, remote)
        base_items = base["activities"] if isinstance(base, dict) else []
        merged = _keep_newest(
            self.by_id(base_items, local["activities"], remote["activities"]), MAX_ACTIVITIES
        )
        return self._fields(base, local, remote, {"activities": merged})

    def by_id(
        self,
        base: Sequence[Dict[str, Any]],
        local: Sequence[Dict[str, Any]],
        remote: Sequence[Dict[str, Any]],
    ) -> List[Dict[str, Any]]:
        if local is remote or json_equal(local, remote):
            return list(local)
        if json_equal(base, local):
            return list(remote)
        if json_equal(base, remote):
            return list(local)
        base_by_id = _index_by_id(base)
        local_by_id = _index_by_id(local)
        remote_by_id = _index_by_id(remote)

        def surviving(item_id: str) -> Any:
            local_item = local_by_id.get(item_id, MISSING)
            remote_item = remote_by_id.get(item_id, MISSING)
            if item_id not in base_by_id:
                return self.value(MISSING, local_item, remote_item)
            # Removed on either side -> removed, even if the other side changed it.
            if local_item is MISSING or remote_item is MISSING:
                return MISSING
            return self.value(base_by_id[item_id], local_item, remote_item)

        first, second = (local, remote) if self.newer == "local" else (remote, local)
        merged: Dict[str, Dict[str, Any]] = {}
        for item in first:
            kept = surviving(item["id"])
            if kept is not MISSING and item["id"] not in merged:
                merged[item["id"]] = kept
        # The other side's additions, each after the item it follows on its own side.
        order = list(merged.keys())
        anchor: Optional[str] = None
        for item in second:
            item_id = item["id"]
            if item_id not in merged:
                kept = surviving(item_id)
                if kept is not MISSING:
                    merged[item_id] = kept
                    at = 0 if anchor is None else order.index(anchor) + 1
                    order.insert(at, item_id)
            if item_id in merged:
                anchor = item_id
        return [merged[item_id] for item_id in order]

    def _fields(self, base: Any, local: Dict[str, Any], remote: Dict[str, Any], decided: Dict[str, Any]) -> Dict[str, Any]:
        """An object merged key by key (`value` rule), with the keys in `decided` already merged."""
        result: Dict[str, Any] = {}
        keys = list(dict.fromkeys([*local.keys(), *remote.keys()]))
        for key in keys:
            value = decided[key] if key in decided else self.value(_get(base, key), local.get(key, MISSING), remote.get(key, MISSING))
            if value is not MISSING:
                result[key] = value
        return result


def merge_dashboard_states(
    base: Optional[DashboardState],
    local: DashboardState,
    remote: DashboardState,
    local_order: MergeSideOrder = MergeSideOrder(),
    remote_order: MergeSideOrder = MergeSideOrder(),
) -> DashboardState:
    """`local` and `remote` merged against `base`, the last copy both agreed on (None when
    unknown: every value then counts as changed on both sides). The result's timestamp is
    the later one; transient parts are `local`'s. Inputs are not changed; the result shares
    unchanged parts with them."""
    if local is remote or json_equal(local, remote):
        return local
    merger = _ThreeWay(_newer_side(local, remote, local_order, remote_order))
    base_widgets = base["widgets"] if base is not None else {}
    lw, rw = local["widgets"], remote["widgets"]
    widgets = {
        "projectStatus": merger.project_status(base_widgets.get("projectStatus"), lw["projectStatus"], rw["projectStatus"]),
        "metrics": merger.metrics(base_widgets.get("metrics"), lw["metrics"], rw["metrics"]),
        "activity": merger.activity(base_widgets.get("activity"), lw["activity"], rw["activity"]),
        "alerts": _keep_newest(
            merger.by_id(base_widgets.get("alerts", []), lw["alerts"], rw["alerts"]), MAX_ALERTS
        ),
    }
    merged: DashboardState = {
        "version": local["version"],
        "timestamp": max(local["timestamp"], remote["timestamp"]),
        "activeProject": merger.value(_get(base, "activeProject"), local.get("activeProject"), remote.get("activeProject")),
        "widgets": widgets,
        "loading": local.get("loading"),
        "errors": local.get("errors"),
    }
    for key in ("workspaceId", "userId"):
        value = merger.value(_get(base, key), local.get(key, MISSING), remote.get(key, MISSING))
        if value is not MISSING:
            merged[key] = value
    return merged
