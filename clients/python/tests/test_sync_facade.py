"""The blocking facade for scripts: same functions, run on the package's own loop."""

from __future__ import annotations

import queue
from typing import Any, Callable

from hyvve_state import StateClient, sync
from hyvve_state.service import configure
from hyvve_state.sync import SyncStatePersistenceService

from .conftest import SECRET, WORKSPACE


def test_sync_functions_round_trip(stack, user, sample_state: Callable[..., Any]) -> None:
    configure(StateClient(stack.servers[0].url, secret=SECRET))
    try:
        assert sync.load_state(WORKSPACE, user) is None
        assert sync.save_state(WORKSPACE, user, sample_state()) is True
        loaded = sync.load_state(WORKSPACE, user)
        assert loaded is not None and loaded["activeProject"] == "apollo"
        assert sync.patch_state(WORKSPACE, user, {"activeProject": "next"}) is True
        assert sync.delete_state(WORKSPACE, user) is True
        assert sync.load_state(WORKSPACE, user) is None
    finally:
        configure(None)


def test_sync_service_subscribes_from_a_plain_thread(stack, user, sample_state: Callable[..., Any]) -> None:
    heard: "queue.Queue[dict]" = queue.Queue()
    client = StateClient(stack.servers[1].url, secret=SECRET)
    with SyncStatePersistenceService(WORKSPACE, user, client=client) as service:
        service.subscribe(heard.put)
        assert service.save(sample_state()) is True
        assert heard.get(timeout=10)["activeProject"] == "apollo"
