"""Blocking facade for scripts: the same functions and service, run on one private event
loop in a daemon thread. Subscription callbacks run on that thread.

    from hyvve_state.sync import save_state, load_state
    save_state("acme", "alice", state)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Awaitable, Dict, Optional, TypeVar

from . import functions
from .client import StateClient
from .http_api import Patch
from .service import StatePersistenceService
from .subscription import DeletedCallback, StateCallback

T = TypeVar("T")

_lock = threading.Lock()
_loop: Optional[asyncio.AbstractEventLoop] = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="hyvve-state-loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run(awaitable: Awaitable[T], timeout: Optional[float] = None) -> T:
    """Runs a coroutine on the facade's loop and waits for its result."""
    future: "concurrent.futures.Future[T]" = asyncio.run_coroutine_threadsafe(
        awaitable,  # type: ignore[arg-type]
        _background_loop(),
    )
    return future.result(timeout)


def save_state(workspace_id: str, user_id: str, state: Dict[str, Any]) -> bool:
    return run(functions.save_state(workspace_id, user_id, state))


def load_state(workspace_id: str, user_id: str) -> Optional[Dict[str, Any]]:
    return run(functions.load_state(workspace_id, user_id))


def delete_state(workspace_id: str, user_id: str) -> bool:
    return run(functions.delete_state(workspace_id, user_id))


def patch_state(workspace_id: str, user_id: str, patch: Patch) -> bool:
    return run(functions.patch_state(workspace_id, user_id, patch))


class SyncStatePersistenceService:
    """StatePersistenceService with blocking methods; `with` unsubscribes on exit."""

    def __init__(self, workspace_id: str, user_id: str, *, client: Optional[StateClient] = None, **options: Any) -> None:
        self._service = StatePersistenceService(workspace_id, user_id, client=client, **options)

    def save(self, state: Dict[str, Any]) -> bool:
        return run(self._service.save(state))

    def load(self) -> Optional[Dict[str, Any]]:
        return run(self._service.load())

    def delete(self) -> bool:
        return run(self._service.delete())

    def patch(self, patch: Patch) -> bool:
        return run(self._service.patch(patch))

    def subscribe(self, callback: StateCallback, *, on_deleted: Optional[DeletedCallback] = None) -> None:
        run(self._service.subscribe(callback, on_deleted=on_deleted))

    def unsubscribe(self) -> None:
        run(self._service.unsubscribe())

    def __enter__(self) -> "SyncStatePersistenceService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()
