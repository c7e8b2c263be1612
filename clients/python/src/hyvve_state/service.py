"""The story's StatePersistenceService for one (workspace, user), as a client of the
server's API (the server is Redis's only writer). Whole-state saves never clobber what
someone else saved meanwhile: each is sent with If-Match on the revision this service last
agreed with the server; on 412 / 409 it reloads and merges three-way exactly as the browser
does (merge.py, a port of merge-states.ts), a bounded number of times. `patch` sends only a
change (merge patch / JSON Patch) for the server to apply to what is stored then.
Graceful degradation as the story says: when persistence is unavailable (Redis down: 503,
server unreachable, over the size limit, rate limited past the bound, lost every merge
race) a warning is logged and save/delete return False, load returns None."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Optional, TypeVar

from .client import StateClient
from .errors import (
    DEGRADED_ERRORS,
    ConflictError,
    InvalidStateError,
    MergeExhaustedError,
    PreconditionFailedError,
    StateApiError,
    StateNotFoundError,
    StateTooLargeError,
)
from .http_api import Patch, StoredState
from .merge import MergeSideOrder, merge_dashboard_states
from .state import (
    MAX_STATE_SIZE_BYTES,
    TRANSIENT_KEYS,
    DashboardState,
    apply_merge_patch,
    check_id,
    initial_state,
    now_ms,
    persistable,
    state_json,
    utf8_size,
)
from .subscription import DeletedCallback, StateCallback, StateSubscription

logger = logging.getLogger("hyvve_state")
R = TypeVar("R")

_default_client: Optional[StateClient] = None


def default_client() -> StateClient:
    """The process-wide client, built from the environment on first use (see client.py)."""
    global _default_client
    if _default_client is None:
        _default_client = StateClient()
    return _default_client


def configure(client: Optional[StateClient] = None, **settings: Any) -> Optional[StateClient]:
    """Sets the client the module functions use: a StateClient, or StateClient(**settings).
    With neither, forgets it: the next use builds one from the environment again."""
    global _default_client
    if client is not None and settings:
        raise TypeError("pass a StateClient or its settings, not both")
    if client is None and not settings:
        _default_client = None
        return None
    _default_client = client if client is not None else StateClient(**settings)
    return _default_client


@dataclass
class _Agreed:
    """The copy this service last agreed with the server: the base of the next merge."""

    state: DashboardState
    revision: int
    epoch: str

    @property
    def etag(self) -> str:
        return f'"{self.epoch}.{self.revision}"' if self.epoch else f'"{self.revision}"'


class StatePersistenceService:
    """save / load / delete / patch / subscribe / unsubscribe for one workspace and user."""

    def __init__(
        self,
        workspace_id: str,
        user_id: str,
        *,
        client: Optional[StateClient] = None,
        raise_errors: bool = False,
        ready_timeout: float = 10.0,
    ) -> None:
        check_id("workspace_id", workspace_id)
        check_id("user_id", user_id)
        self.workspace_id = workspace_id
        self.user_id = user_id
        self.client = client if client is not None else default_client()
        #: True: raise the degraded errors too, instead of the story's False / None.
        self.raise_errors = raise_errors
        self.ready_timeout = ready_timeout
        self._agreed: Optional[_Agreed] = None
        self._subscription: Optional[StateSubscription] = None

    # -- the story's API -------------------------------------------------------------

    async def save(self, state: Mapping[str, Any]) -> bool:
        """Saves a whole state, merged with whatever was saved since this service last
        loaded or saved. True when stored; False (and a warning) when persistence is
        unavailable. Raises InvalidStateError / AuthenticationError on bad input."""
        try:
            await self.save_or_raise(state)
            return True
        except DEGRADED_ERRORS as error:
            return self._degraded("save", error, False)

    async def load(self) -> Optional[DashboardState]:
        """The stored state, or None when nothing is stored or persistence is unavailable."""
        try:
            stored = await self.client.api.get(self.workspace_id, self.user_id)
        except DEGRADED_ERRORS as error:
            return self._degraded("load", error, None)
        if stored is None:
            return None
        self._agree(stored.state, stored.revision, stored.epoch)
        return stored.state

    async def delete(self) -> bool:
        """Deletes the stored state (True also when nothing was stored)."""
        try:
            await self.client.api.delete(self.workspace_id, self.user_id)
        except DEGRADED_ERRORS as error:
            return self._degraded("delete", error, False)
        self._agreed = None
        return True

    async def patch(self, patch: Patch) -> bool:
        """Changes part of the state without touching the rest: a dict is a JSON Merge Patch
        (RFC 7386), a list a JSON Patch (RFC 6902). The server applies it to the state
        stored at that moment, so a user's concurrent edits elsewhere survive. With nothing
        stored, a merge patch is applied to an empty dashboard and saved."""
        if isinstance(patch, Mapping):
            patch = {k: v for k, v in patch.items() if k not in TRANSIENT_KEYS}
        try:
            try:
                await self.client.api.patch(self.workspace_id, self.user_id, patch)
            except StateNotFoundError:
                if not isinstance(patch, Mapping):
                    raise
                await self.save_or_raise(apply_merge_patch(initial_state(now_ms()), patch))
                return True
        except DEGRADED_ERRORS as error:
            return self._degraded("patch", error, False)
        except StateNotFoundError as error:
            return self._degraded("patch", error, False)
        # The server made the new content: the next whole-state save reloads its base.
        self._agreed = None
        return True

    async def subscribe(
        self, callback: StateCallback, *, on_deleted: Optional[DeletedCallback] = None
    ) -> None:
        """Calls `callback(state)` with every newer state (saved by anyone, through any
        server instance) until `unsubscribe()`; `on_deleted()` when it is deleted. Returns
        once connected and caught up (or after `ready_timeout`, with a warning, while it
        keeps trying in the background). A second subscribe replaces the first."""
        await self.unsubscribe()
        subscription = StateSubscription(
            self.client.api, self.workspace_id, self.user_id, callback, on_deleted=on_deleted
        )
        self._subscription = subscription
        task = subscription.start()
        synced = asyncio.ensure_future(subscription.synced.wait())
        try:
            await asyncio.wait({synced, task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            synced.cancel()
        if task.done():
            task.result()  # a configuration error (bad URL): raise it here
        if not subscription.synced.is_set():
            logger.warning(
                "hyvve_state: subscription to %s/%s not connected after %.1f s; still trying",
                self.workspace_id, self.user_id, self.ready_timeout,
            )

    async def unsubscribe(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.stop()

    async def __aenter__(self) -> "StatePersistenceService":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.unsubscribe()

    # -- strict variants -------------------------------------------------------------

    async def save_or_raise(self, state: Mapping[str, Any]) -> StoredState:
        """`save` that raises every failure as a typed error; returns what was stored."""
        local = persistable(state)
        # A save is a change made now (the browser stamps its changes the same way);
        # a timestamp already ahead is kept, so timestamps never go back.
        stamp = local.get("timestamp")
        local["timestamp"] = max(stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else 0, now_ms())
        self._check_size(local)
        agreed = self._agreed
        if agreed is None:
            stored = await self.client.api.get(self.workspace_id, self.user_id)
            if stored is not None:
                local = self._merged(None, local, stored)
                agreed = _Agreed(stored.state, stored.revision, stored.epoch)
        base = agreed
        restamped = False
        for attempt in range(1, self.client.max_save_attempts + 1):
            try:
                result = await self.client.api.post(
                    self.workspace_id, self.user_id, local, if_match=base.etag if base else None
                )
            except (PreconditionFailedError, ConflictError) as error:
                current = error.current if isinstance(error, ConflictError) else None
                stored = StoredState.from_body(current) if current else await self.client.api.get(
                    self.workspace_id, self.user_id
                )
                logger.info(
                    "hyvve_state: %s/%s changed meanwhile (%s); merging, attempt %d",
                    self.workspace_id, self.user_id, error.status, attempt,
                )
                if stored is None:
                    base = None  # deleted meanwhile: this save creates it again
                else:
                    local = self._merged(base, local, stored)
                    base = _Agreed(stored.state, stored.revision, stored.epoch)
                continue
            except InvalidStateError as error:
                server_time = error.body.get("serverTime")
                if error.path == "timestamp" and isinstance(server_time, int) and not restamped:
                    # This machine's clock runs ahead of the server's: stamp with its time.
                    restamped = True
                    local["timestamp"] = server_time
                    continue
                raise
            self._agree(local, result.revision, result.epoch)
            return StoredState(local, result.revision, result.saved_at, result.epoch)
        raise MergeExhaustedError(
            f"save: {self.workspace_id}/{self.user_id} kept changing; gave up after "
            f"{self.client.max_save_attempts} attempts"
        )

    # -- helpers ---------------------------------------------------------------------

    def _merged(self, base: Optional[_Agreed], local: DashboardState, remote: StoredState) -> DashboardState:
        """Like the browser's decideMerge: the side based on the later revision is newer."""
        local_base = base.revision if base is not None else 0
        same_counter = base is not None and (not base.epoch or not remote.epoch or base.epoch == remote.epoch)
        remote_base = remote.revision - 1 if same_counter and remote.revision > local_base else local_base
        merged = merge_dashboard_states(
            base.state if base is not None else None,
            local,
            persistable(remote.state),
            MergeSideOrder(local_base, self.client.origin),
            MergeSideOrder(remote_base, ""),
        )
        result = persistable(merged)
        self._check_size(result)
        return result

    @staticmethod
    def _check_size(state: DashboardState) -> None:
        size = utf8_size(state_json(state))
        if size > MAX_STATE_SIZE_BYTES:
            raise StateTooLargeError(size, MAX_STATE_SIZE_BYTES)

    def _agree(self, state: DashboardState, revision: int, epoch: str) -> None:
        self._agreed = _Agreed(persistable(state), revision, epoch)

    def _degraded(self, action: str, error: StateApiError, result: R) -> R:
        if self.raise_errors:
            raise error
        logger.warning(
            "hyvve_state: %s of %s/%s failed, continuing without persistence: %s",
            action, self.workspace_id, self.user_id, error,
            extra={"workspace_id": self.workspace_id, "user_id": self.user_id, "error_type": type(error).__name__},
        )
        return result
