"""save / load / delete against a real server and Redis: the story's round trip, transient
parts never stored, the 1 MB limit, tokens, and an unreachable server."""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from hyvve_state import (
    AuthenticationError,
    StatePersistenceService,
    StateTooLargeError,
    sign_token,
)

from .conftest import SECRET, WORKSPACE
from .processes import free_port


async def test_save_load_delete_round_trip(stack, make_client, user, sample_state) -> None:
    service = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    assert await service.load() is None
    state = sample_state()
    assert await service.save(state) is True
    loaded = await service.load()
    assert loaded is not None
    assert loaded["widgets"] == state["widgets"]
    assert loaded["activeProject"] == "apollo"
    assert loaded["timestamp"] >= state["timestamp"]
    assert await service.delete() is True
    assert await service.load() is None
    # Deleting what is not stored is no failure.
    assert await service.delete() is True


async def test_saved_state_is_readable_by_other_instance(stack, make_client, user, sample_state) -> None:
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    reader = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[1].url))
    assert await writer.save(sample_state()) is True
    loaded = await reader.load()
    assert loaded is not None and loaded["widgets"]["alerts"][0]["id"] == "a1"


async def test_transient_parts_are_never_stored(stack, make_client, user, sample_state) -> None:
    client = make_client(stack.servers[0].url)
    service = StatePersistenceService(WORKSPACE, user, client=client)
    state = sample_state()
    state["loading"] = {"isLoading": True, "loadingAgents": ["insights"], "startedAt": 1}
    state["errors"] = {"insights": "timed out"}
    assert await service.save(state) is True
    # Read what the server holds with a plain GET, not through the package.
    token = sign_token(SECRET, WORKSPACE, user)
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{client.base_url}/api/dashboard/state", headers={"authorization": f"Bearer {token}"})
    stored = answer.json()["state"]
    assert stored["loading"] == {"isLoading": False, "loadingAgents": []}
    assert stored["errors"] == {}
    # The caller's own dict is left as it was.
    assert state["errors"] == {"insights": "timed out"}


async def test_state_over_one_megabyte_is_refused(stack, make_client, user, sample_state, caplog) -> None:
    client = make_client(stack.servers[0].url)
    service = StatePersistenceService(WORKSPACE, user, client=client)
    big = sample_state()
    big["widgets"]["alerts"][0]["message"] = "x" * (1024 * 1024)
    with caplog.at_level(logging.WARNING, logger="hyvve_state"):
        assert await service.save(big) is False
    assert any("over the 1048576 byte limit" in r.getMessage() for r in caplog.records)
    assert await service.load() is None
    strict = StatePersistenceService(WORKSPACE, user, client=client, raise_errors=True)
    with pytest.raises(StateTooLargeError):
        await strict.save(big)
    # The server refuses it too (413) when the client's own check is bypassed.
    with pytest.raises(StateTooLargeError) as refused:
        await client.api.post(WORKSPACE, user, big)
    assert refused.value.status == 413


def test_signed_tokens_carry_the_claims_the_server_requires() -> None:
    token = sign_token(SECRET, "acme", "alice", expires_in=120, issuer="hyvve", audience="dash")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="dash", issuer="hyvve")
    assert claims["sub"] == "alice" and claims["wid"] == "acme"
    assert claims["exp"] - claims["iat"] == 120
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(ValueError):
        sign_token(SECRET, "acme", "al:ice")


async def test_token_provider_is_used_and_a_refused_token_raises(stack, make_client, user, sample_state) -> None:
    asked = []

    async def provider(workspace_id: str, user_id: str) -> str:
        asked.append((workspace_id, user_id))
        return sign_token(SECRET, workspace_id, user_id)

    client = make_client(stack.servers[0].url, token_provider=provider, secret=None)
    assert await StatePersistenceService(WORKSPACE, user, client=client).save(sample_state()) is True
    assert (WORKSPACE, user) in asked
    wrong = make_client(stack.servers[0].url, secret="not-the-server-secret-" + "x" * 20)
    with pytest.raises(AuthenticationError) as refused:
        await StatePersistenceService(WORKSPACE, user, client=wrong).load()
    assert refused.value.status == 401


async def test_unreachable_server_degrades_gracefully(make_client, user, sample_state, caplog) -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    service = StatePersistenceService(WORKSPACE, user, client=client)
    with caplog.at_level(logging.WARNING, logger="hyvve_state"):
        assert await service.save(sample_state()) is False
        assert await service.load() is None
        assert await service.delete() is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all("cannot reach" in r.getMessage() for r in warnings)
