"""The server's limits as an agent meets them: the TTL (STATE_TTL_SECONDS) and the
per-user rate limit (429 waited out within a bound, honouring Retry-After)."""

from __future__ import annotations

import asyncio
import time

import pytest

from hyvve_state import RateLimitedError, StatePersistenceService

from .conftest import WORKSPACE


async def test_state_expires_after_the_ttl(tight_stack, make_client, user, sample_state) -> None:
    service = StatePersistenceService(WORKSPACE, user, client=make_client(tight_stack.servers[0].url))
    assert await service.save(sample_state()) is True
    ttl = int(tight_stack.redis.command("TTL", f"dashboard:state:{{{WORKSPACE}:{user}}}"))
    assert 0 < ttl <= 1
    # Wait for the expiry Redis was told of (1 s), then check once.
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and tight_stack.redis.command("EXISTS", f"dashboard:state:{{{WORKSPACE}:{user}}}") == "1":
        await asyncio.sleep(0.1)
    assert await service.load() is None


async def test_rate_limit_is_waited_out_within_the_bound(tight_stack, make_client, user, sample_state) -> None:
    client = make_client(tight_stack.servers[0].url, max_rate_limit_wait=8.0)
    service = StatePersistenceService(WORKSPACE, user, client=client)
    assert await service.save(sample_state()) is True
    # 12 patches at once against 5 per second (burst 5): some meet 429 and wait.
    started = time.monotonic()
    results = await asyncio.gather(*(service.patch({"activeProject": f"p{n}"}) for n in range(12)))
    assert results == [True] * 12
    assert time.monotonic() - started >= 1.0, "the limit was met and waited out"


async def test_rate_limit_past_the_bound_is_a_typed_error(tight_stack, make_client, user, sample_state) -> None:
    client = make_client(tight_stack.servers[0].url, max_rate_limit_wait=0.0)
    strict = StatePersistenceService(WORKSPACE, user, client=client, raise_errors=True)
    assert await strict.save(sample_state()) is True
    with pytest.raises(RateLimitedError) as limited:
        await asyncio.gather(*(strict.patch({"activeProject": f"p{n}"}) for n in range(12)))
    assert limited.value.status == 429
    assert limited.value.retry_after > 0
