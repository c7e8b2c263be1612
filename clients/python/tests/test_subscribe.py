"""subscribe_to_state / StatePersistenceService.subscribe: hears saves made over HTTP,
through another server instance, deletes, and stops when unsubscribed or cancelled."""

from __future__ import annotations

import asyncio

from hyvve_state import StatePersistenceService, subscribe_to_state
from hyvve_state.service import configure

from .conftest import WORKSPACE

WAIT = 10.0


async def next_state(queue: "asyncio.Queue[dict]") -> dict:
    return await asyncio.wait_for(queue.get(), WAIT)


async def test_subscriber_hears_a_save_made_through_another_instance(stack, make_client, user, sample_state) -> None:
    received: "asyncio.Queue[dict]" = asyncio.Queue()
    listener = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[1].url))
    async with listener:
        await listener.subscribe(received.put_nowait)
        state = sample_state()
        state["activeProject"] = "gemini"
        assert await writer.save(state) is True
        heard = await next_state(received)
        assert heard["activeProject"] == "gemini"
        # A patch over HTTP is heard as the whole new state (no patch messages asked for).
        assert await writer.patch({"widgets": {"projectStatus": {"progress": 90}}}) is True
        heard = await next_state(received)
        assert heard["widgets"]["projectStatus"]["progress"] == 90
        assert heard["activeProject"] == "gemini"
    assert listener._subscription is None


async def test_subscribe_delivers_the_stored_state_first_and_hears_deletes(stack, make_client, user, sample_state) -> None:
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[1].url))
    assert await writer.save(sample_state()) is True
    received: "asyncio.Queue[dict]" = asyncio.Queue()
    deleted = asyncio.Event()

    async def on_state(state: dict) -> None:  # async callbacks are awaited
        await received.put(state)

    listener = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    await listener.subscribe(on_state, on_deleted=deleted.set)
    try:
        # The resync after `ready` brings what was stored before subscribing.
        first = await next_state(received)
        assert first["widgets"]["alerts"][0]["id"] == "a1"
        assert await writer.delete() is True
        await asyncio.wait_for(deleted.wait(), WAIT)
    finally:
        await listener.unsubscribe()


async def test_a_failing_callback_is_logged_and_the_stream_goes_on(stack, make_client, user, sample_state, caplog) -> None:
    received: "asyncio.Queue[dict]" = asyncio.Queue()
    calls = 0

    def flaky(state: dict) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("agent bug")
        received.put_nowait(state)

    listener = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[0].url))
    await listener.subscribe(flaky)
    try:
        assert await writer.save(sample_state(activity=None)) is True
        assert await writer.patch({"activeProject": "second"}) is True
        heard = await next_state(received)
        assert heard["activeProject"] == "second"
    finally:
        await listener.unsubscribe()
    assert any("callback raised" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_subscribe_to_state_runs_until_cancelled(stack, make_client, user, sample_state) -> None:
    configure(make_client(stack.servers[0].url))
    writer = StatePersistenceService(WORKSPACE, user, client=make_client(stack.servers[1].url))
    received: "asyncio.Queue[dict]" = asyncio.Queue()
    assert await writer.save(sample_state()) is True
    try:
        task = asyncio.ensure_future(subscribe_to_state(WORKSPACE, user, received.put_nowait))
        # Connected and caught up: the stored state arrives first ...
        assert (await next_state(received))["activeProject"] == "apollo"
        # ... then every newer one.
        assert await writer.patch({"activeProject": "vega"}) is True
        assert (await next_state(received))["activeProject"] == "vega"
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()
    finally:
        configure(None)
