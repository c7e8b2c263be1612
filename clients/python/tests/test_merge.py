"""The port of merge-states.ts, rule by rule (the table at the top of merge.py)."""

from __future__ import annotations

import copy

from hyvve_state import MergeSideOrder, initial_state, merge_dashboard_states
from hyvve_state.merge import json_equal


def alert(item_id: str, timestamp: int = 1, **fields: object) -> dict:
    return {"id": item_id, "type": "info", "title": item_id, "message": "m", "timestamp": timestamp,
            "dismissable": True, "dismissed": False, **fields}


def base_state() -> dict:
    state = initial_state(1000)
    state["activeProject"] = "p"
    state["widgets"]["alerts"] = [alert("a"), alert("b"), alert("c")]
    return state


def test_a_change_on_one_side_is_kept() -> None:
    base = base_state()
    local, remote = copy.deepcopy(base), copy.deepcopy(base)
    local["activeProject"] = "mine"
    remote["widgets"]["alerts"][1]["dismissed"] = True
    merged = merge_dashboard_states(base, local, remote)
    assert merged["activeProject"] == "mine"
    assert merged["widgets"]["alerts"][1]["dismissed"] is True


def test_items_merge_by_id() -> None:
    base = base_state()
    local, remote = copy.deepcopy(base), copy.deepcopy(base)
    local["widgets"]["alerts"].insert(1, alert("l"))  # added after "a" locally
    remote["widgets"]["alerts"] = [a for a in remote["widgets"]["alerts"] if a["id"] != "c"]
    remote["widgets"]["alerts"].append(alert("r"))
    local["timestamp"] = 2000
    merged = merge_dashboard_states(base, local, remote)
    assert [a["id"] for a in merged["widgets"]["alerts"]] == ["a", "l", "b", "r"]


def test_same_value_changed_on_both_sides_newer_wins() -> None:
    base = base_state()
    local, remote = copy.deepcopy(base), copy.deepcopy(base)
    local["activeProject"], local["timestamp"] = "local", 3000
    remote["activeProject"], remote["timestamp"] = "remote", 2000
    assert merge_dashboard_states(base, local, remote)["activeProject"] == "local"
    # The revision each side was based on decides before the clocks do.
    later = merge_dashboard_states(base, local, remote, MergeSideOrder(4, "x"), MergeSideOrder(6, ""))
    assert later["activeProject"] == "remote"
    assert later["timestamp"] == 3000


def test_without_a_base_both_sides_items_are_kept_and_transient_parts_are_local() -> None:
    local, remote = base_state(), base_state()
    remote["widgets"]["alerts"] = [alert("z")]
    local["errors"] = {"agent": "x"}
    merged = merge_dashboard_states(None, local, remote)
    assert {a["id"] for a in merged["widgets"]["alerts"]} == {"a", "b", "c", "z"}
    assert merged["errors"] == {"agent": "x"}


def test_lists_over_their_limit_keep_the_newest() -> None:
    base = initial_state(1)
    local, remote = copy.deepcopy(base), copy.deepcopy(base)
    local["widgets"]["alerts"] = [alert(f"l{n}", timestamp=n) for n in range(30)]
    remote["widgets"]["alerts"] = [alert(f"r{n}", timestamp=100 + n) for n in range(30)]
    merged = merge_dashboard_states(base, local, remote)["widgets"]["alerts"]
    assert len(merged) == 50
    assert {a["id"] for a in merged} >= {f"r{n}" for n in range(30)}
    assert "l0" not in {a["id"] for a in merged}


def test_json_equal_follows_javascript() -> None:
    assert json_equal({"a": 1, "b": [1, {"c": None}]}, {"b": [1.0, {"c": None}], "a": 1})
    assert not json_equal({"a": None}, {})
    assert not json_equal(True, 1)
