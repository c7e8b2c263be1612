"""Fixtures: real Redis and real server processes (packages/server/dist/main.js), started
on free ports and stopped after the tests that use them; clients signing service tokens
with the servers' secret; a fresh user id per test, so tests never share a state."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, AsyncIterator, Callable, Iterator, List

import pytest

from hyvve_state import StateClient, initial_state
from hyvve_state.state import now_ms

from .processes import Stack

SECRET = secrets.token_urlsafe(48)
WORKSPACE = "acme"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Two server instances on one Redis (cross-instance fan-out)."""
    started = Stack(SECRET)
    try:
        yield started.start(instances=2)
    finally:
        started.close()


@pytest.fixture(scope="module")
def tight_stack() -> Iterator[Stack]:
    """One instance with a 1 s TTL and a low per-user rate limit."""
    started = Stack(SECRET)
    try:
        yield started.start(
            instances=1,
            extra_env={
                "STATE_TTL_SECONDS": "1",
                "RATE_LIMIT_SAVES_PER_SECOND": "5",
                "RATE_LIMIT_BURST": "5",
            },
        )
    finally:
        started.close()


@pytest.fixture(scope="module")
def outage_stack() -> Iterator[Stack]:
    """One instance on a Redis the tests stop and restart."""
    started = Stack(SECRET)
    try:
        yield started.start(instances=1)
    finally:
        started.close()


@pytest.fixture
def user() -> str:
    return f"u-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., StateClient]]:
    """Clients signing tokens with the servers' secret; their connections closed after the test."""
    made: List[StateClient] = []

    def make(base_url: str, **options: Any) -> StateClient:
        client = StateClient(base_url, secret=options.pop("secret", SECRET), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def sample_state() -> Callable[..., dict]:
    def build(**widgets: object) -> dict:
        state = initial_state(now_ms())
        state["activeProject"] = "apollo"
        state["widgets"]["alerts"] = [
            {"id": "a1", "type": "warning", "title": "Budget", "message": "80% spent",
             "timestamp": now_ms(), "dismissable": True, "dismissed": False},
        ]
        state["widgets"]["projectStatus"] = {
            "projectId": "apollo", "name": "Apollo", "status": "on-track", "progress": 40,
            "tasksCompleted": 4, "tasksTotal": 10, "lastUpdated": now_ms(),
        }
        state["widgets"].update(widgets)
        return state

    return build
