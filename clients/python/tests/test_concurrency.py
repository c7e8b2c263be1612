"""Agents never clobber a user's edits: a PATCH is applied to what is stored at that
moment, and a whole-state save that lost the race (412) is merged three-way and retried."""

from __future__ import annotations

import copy
import logging

from hyvve_state import StatePersistenceService, patch_state, service_for
from hyvve_state.service import configure
from hyvve_state.state import now_ms

from .conftest import WORKSPACE


def dismissed_first_alert(state: dict) -> dict:
    """What a browser tab saves after the user dismissed the first alert."""
    changed = copy.deepcopy(state)
    changed["widgets"]["alerts"][0]["dismissed"] = True
    changed["timestamp"] = now_ms()
    return changed


async def test_patch_keeps_a_concurrent_browser_change(stack, make_client, user, sample_state) -> None:
    agent = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    browser = make_client(stack.servers[1].url).api
    assert await agent.save(sample_state()) is True
    seen = await agent.load()
    assert seen is not None
    # The user dismisses the alert after the agent read the state ...
    await browser.post(WORKSPACE, user, dismissed_first_alert(seen))
    # ... and the agent then updates the project's progress with a merge patch.
    assert await agent.patch({"widgets": {"projectStatus": {"progress": 75, "tasksCompleted": 7}}}) is True
    final = await agent.load()
    assert final is not None
    assert final["widgets"]["alerts"][0]["dismissed"] is True
    assert final["widgets"]["projectStatus"]["progress"] == 75
    assert final["widgets"]["projectStatus"]["name"] == "Apollo"


async def test_whole_state_save_merges_with_a_concurrent_browser_change(
    stack, make_client, user, sample_state, caplog
) -> None:
    agent = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    browser = make_client(stack.servers[1].url).api
    assert await agent.save(sample_state()) is True
    mine = await agent.load()
    assert mine is not None
    await browser.post(WORKSPACE, user, dismissed_first_alert(mine))
    # The agent saves its whole copy, made from the older state: an added alert and metrics.
    mine["widgets"]["alerts"].append(
        {"id": "a2", "type": "info", "title": "Sprint", "message": "Sprint 4 started",
         "timestamp": now_ms(), "dismissable": True, "dismissed": False}
    )
    mine["widgets"]["metrics"] = {
        "title": "Key Metrics", "lastUpdated": now_ms(),
        "metrics": [{"id": "m1", "label": "Velocity", "value": 31, "trend": "up"}],
    }
    with caplog.at_level(logging.INFO, logger="hyvve_state"):
        assert await agent.save(mine) is True
    assert any("changed meanwhile (412)" in r.getMessage() for r in caplog.records)
    final = await agent.load()
    assert final is not None
    alerts = {alert["id"]: alert for alert in final["widgets"]["alerts"]}
    assert alerts["a1"]["dismissed"] is True, "the user's dismissal survived the agent's save"
    assert "a2" in alerts, "the agent's new alert is kept"
    assert final["widgets"]["metrics"]["metrics"][0]["value"] == 31


async def test_save_without_a_prior_load_merges_with_what_is_stored(stack, make_client, user, sample_state) -> None:
    browser = make_client(stack.servers[1].url).api
    stored = sample_state()
    await browser.post(WORKSPACE, user, stored)
    agent = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    fresh = sample_state()
    fresh["widgets"]["alerts"] = [
        {"id": "b1", "type": "error", "title": "Build", "message": "failed",
         "timestamp": now_ms(), "dismissable": True, "dismissed": False}
    ]
    assert await agent.save(fresh) is True
    final = await agent.load()
    assert final is not None
    assert {alert["id"] for alert in final["widgets"]["alerts"]} == {"a1", "b1"}


async def test_module_functions_share_a_service_per_user(stack, make_client, user, sample_state) -> None:
    client = make_client(stack.servers[0].url)
    configure(client)
    try:
        assert service_for(WORKSPACE, user) is service_for(WORKSPACE, user)
        # Nothing stored: a merge patch starts from an empty dashboard.
        assert await patch_state(WORKSPACE, user, {"activeProject": "apollo"}) is True
        loaded = await service_for(WORKSPACE, user).load()
        assert loaded is not None and loaded["activeProject"] == "apollo"
        assert loaded["widgets"]["alerts"] == []
    finally:
        configure(None)
