"""Redis down and back: the story's graceful degradation (a warning, False / None, the
agent goes on) and a subscription that comes back by itself and catches up."""

from __future__ import annotations

import asyncio
import logging

from hyvve_state import StatePersistenceService, StoreUnavailableError

import pytest

from .conftest import WORKSPACE

WAIT = 15.0


async def restart_redis(stack) -> None:
    stack.redis.start()
    # The server reconnects on its own; ready once /readyz says its store is reachable.
    await asyncio.get_running_loop().run_in_executor(None, stack.servers[0].wait_ready)


async def test_redis_down_gives_false_and_none_with_a_warning(outage_stack, make_client, user, sample_state, caplog) -> None:
    client = make_client(outage_stack.servers[0].url)
    service = StatePersistenceService(WORKSPACE, user, client=client)
    assert await service.save(sample_state()) is True
    outage_stack.redis.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="hyvve_state"):
            assert await service.save(sample_state()) is False
            assert await service.load() is None
            assert await service.delete() is False
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "hyvve_state"]
        assert len(warnings) == 3
        assert all("503 store_unavailable" in message for message in warnings)
        strict = StatePersistenceService(WORKSPACE, user, client=client, raise_errors=True)
        with pytest.raises(StoreUnavailableError):
            await strict.load()
    finally:
        await restart_redis(outage_stack)
    # Persistence resumes once Redis is back (its data is gone: it keeps nothing on disk).
    assert await service.save(sample_state()) is True
    assert await service.load() is not None


async def test_subscription_comes_back_after_a_redis_restart(outage_stack, make_client, user, sample_state) -> None:
    received: "asyncio.Queue[dict]" = asyncio.Queue()
    client = make_client(outage_stack.servers[0].url)
    listener = StatePersistenceService(WORKSPACE, user, client=client)
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(outage_stack.servers[0].url))
    await listener.subscribe(received.put_nowait)
    try:
        assert await writer.save(sample_state()) is True
        assert (await asyncio.wait_for(received.get(), WAIT))["activeProject"] == "apollo"
        outage_stack.redis.stop()
        await restart_redis(outage_stack)
        # The restarted Redis lost everything, revisions start over: still heard.
        after = sample_state()
        after["activeProject"] = "after-restart"
        assert await writer.save(after) is True
        heard = await asyncio.wait_for(received.get(), WAIT)
        assert heard["activeProject"] == "after-restart"
    finally:
        await listener.unsubscribe()
