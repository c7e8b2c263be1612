"""The dashboard state as this client handles it: the schema's constants, the persistable
copy (transient parts empty), its JSON and size, a fresh state, and RFC 7386 merge patch.
The server validates every state against the schema; nothing here duplicates that."""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any, Dict, Mapping

#: Mirrors packages/schema/src/constants.ts.
STATE_VERSION = 1
MAX_STATE_SIZE_BYTES = 1_048_576
STATE_TTL_SECONDS = 86_400
MAX_ALERTS = 50
MAX_ACTIVITIES = 100
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"
JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"
#: The parts of a state that belong to one running view and are never stored.
TRANSIENT_KEYS = ("loading", "errors")

DashboardState = Dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


def check_id(kind: str, value: str) -> None:
    """Raises ValueError unless `value` is a valid workspace or user id."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ValueError(f"{kind} must match {ID_PATTERN.pattern} (got {value!r})")


def empty_transient() -> Dict[str, Any]:
    return {"loading": {"isLoading": False, "loadingAgents": []}, "errors": {}}


def persistable(state: Mapping[str, Any]) -> DashboardState:
    """A deep copy of `state` with the transient parts empty, as every stored copy is."""
    if not isinstance(state, Mapping):
        raise TypeError(f"a dashboard state is a dict, not {type(state).__name__}")
    result = copy.deepcopy(dict(state))
    result.update(empty_transient())
    return result


def state_json(state: Any) -> str:
    """Compact JSON as the server measures it (UTF-8, no ASCII escapes)."""
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def initial_state(timestamp: int) -> DashboardState:
    """An empty dashboard, like the schema's createInitialDashboardState."""
    return {
        "version": STATE_VERSION,
        "timestamp": timestamp,
        "activeProject": None,
        "widgets": {"projectStatus": None, "metrics": None, "activity": None, "alerts": []},
        **empty_transient(),
    }


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: Dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result
