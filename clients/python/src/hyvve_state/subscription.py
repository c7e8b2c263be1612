"""One live subscription to a user's state over the WebSocket API: connects with a bearer
token, and after every `ready` (first connect, reconnect, a counter reset) loads the state
over HTTP, so nothing missed while away is lost; then hands each newer `state` to the
callback. It asks for whole `state` messages (no `?patches=1`), skips anything not newer
than what it delivered, and reconnects with capped, jittered backoff until stopped."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
from typing import Any, Awaitable, Callable, Dict, Optional, Union

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .errors import AuthenticationError, StateApiError
from .http_api import SUBSCRIBE_PATH, HttpStateApi, StoredState
from .state import DashboardState

try:  # websockets >= 13: the new asyncio implementation
    from websockets.asyncio.client import connect as _ws_connect

    _HEADERS_ARG = "additional_headers"
except ImportError:  # pragma: no cover - websockets 10-12 (e.g. Debian bookworm's 10.4)
    from websockets.client import connect as _ws_connect  # type: ignore[no-redef,attr-defined]

    _HEADERS_ARG = "extra_headers"

logger = logging.getLogger("hyvve_state")

StateCallback = Callable[[DashboardState], Union[None, Awaitable[None]]]
DeletedCallback = Callable[[], Union[None, Awaitable[None]]]

#: Close codes of packages/schema/src/api.ts that change what the next connect does.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_STALLED = 4408
CLOSE_GOING_AWAY = 1001
#: A state is at most 1 MiB; its message carries a little more.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def websocket_url(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :].rstrip("/") + SUBSCRIBE_PATH
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :].rstrip("/") + SUBSCRIBE_PATH
    raise ValueError(f"base URL must start with http:// or https:// (got {base_url!r})")


def _close_code(error: ConnectionClosed) -> Optional[int]:
    received = getattr(error, "rcvd", None)
    if received is not None:
        return int(received.code)
    code = getattr(error, "code", None)
    return int(code) if isinstance(code, int) else None


async def _call(callback: Callable[..., Any], *args: Any) -> None:
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:  # the caller's code: logged with its traceback, the stream goes on
        logger.exception("hyvve_state: subscriber callback raised; continuing")


class StateSubscription:
    """Delivers the newest state of (workspace, user) to `on_state` until `stop()`."""

    def __init__(
        self,
        api: HttpStateApi,
        workspace_id: str,
        user_id: str,
        on_state: StateCallback,
        *,
        on_deleted: Optional[DeletedCallback] = None,
        max_backoff: float = 5.0,
        open_timeout: float = 10.0,
    ) -> None:
        self._api = api
        self._url = websocket_url(api.base_url)
        self._workspace_id = workspace_id
        self._user_id = user_id
        self._on_state = on_state
        self._on_deleted = on_deleted
        self._max_backoff = max_backoff
        self._open_timeout = open_timeout
        self._epoch = ""
        #: Revision of the newest state or delete delivered (-1: none yet).
        self._delivered = -1
        self._has_state = False
        self._task: Optional["asyncio.Task[None]"] = None
        #: Set once connected and resynced; cleared while disconnected.
        self.synced = asyncio.Event()
        self.connects = 0

    def start(self) -> "asyncio.Task[None]":
        if self._task is None:
            self._task = asyncio.ensure_future(self.run())
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def run(self) -> None:
        """Connects, streams and reconnects until cancelled."""
        failures = 0
        fresh_token = False
        while True:
            connects_before = self.connects
            try:
                token = await self._api.tokens.token(
                    self._workspace_id, self._user_id, fresh=fresh_token
                )
                fresh_token = False
                code = await self._session(token)
                reason = f"closed by the server (code {code})"
                if code in (CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN):
                    fresh_token = True
                if code in (CLOSE_GOING_AWAY, CLOSE_STALLED):
                    failures = 0
            except asyncio.CancelledError:
                raise
            except ConnectionClosed as error:
                code = _close_code(error)
                reason = f"connection lost (code {code})"
                fresh_token = code in (CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN)
            except (OSError, InvalidHandshake, asyncio.TimeoutError, StateApiError) as error:
                reason = f"{type(error).__name__}: {error}"
                status = getattr(getattr(error, "response", None), "status_code", None)
                fresh_token = status == 401 or isinstance(error, AuthenticationError)
            except InvalidURI as error:
                raise ValueError(f"bad subscribe URL {self._url}: {error}") from error
            self.synced.clear()
            if self.connects > connects_before:
                failures = 0  # it was connected: this is a new outage, start the backoff over
            delay = min(self._max_backoff, 0.1 * 2**failures) * random.uniform(0.5, 1.0)
            failures += 1
            log = logger.warning if failures == 1 else logger.debug
            log(
                "hyvve_state: subscription to %s/%s %s; reconnecting in %.2f s",
                self._workspace_id, self._user_id, reason, delay,
            )
            await asyncio.sleep(delay)

    async def _session(self, token: str) -> Optional[int]:
        options: Dict[str, Any] = {
            _HEADERS_ARG: {"Authorization": f"Bearer {token}"},
            "open_timeout": self._open_timeout,
            "max_size": MAX_MESSAGE_BYTES,
        }
        async with _ws_connect(self._url, **options) as socket:
            async for raw in socket:
                message = json.loads(raw)
                if isinstance(message, dict):
                    await self._handle(message)
            return getattr(socket, "close_code", None)

    async def _handle(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        logger.debug(
            "hyvve_state: %s/%s got %s revision=%s epoch=%s delivered=%s",
            self._workspace_id, self._user_id, kind, message.get("revision"),
            message.get("epoch"), self._delivered,
        )
        if kind == "ready":
            epoch = message.get("epoch") or ""
            revision = message.get("revision")
            if isinstance(revision, int) and revision < self._delivered:
                # The counter went back: the store lost its data and revisions start over.
                logger.info("hyvve_state: revision counter reset (%s -> %s)", self._delivered, revision)
                self._delivered = -1
            self._adopt_epoch(epoch)
            self.connects += 1
            if self.connects > 1:
                logger.info("hyvve_state: subscription to %s/%s restored", self._workspace_id, self._user_id)
            await self._resync()
        elif kind == "state":
            await self._deliver(message.get("state"), int(message.get("revision", 0)))
        elif kind == "deleted":
            revision = int(message.get("revision", 0))
            if revision > self._delivered:
                self._delivered = revision
                await self._gone()
        elif kind == "status":
            if message.get("store") == "down":
                logger.warning(
                    "hyvve_state: the server lost its store; changes resume when it is back"
                )
            else:
                logger.info("hyvve_state: the server's store is back; resyncing")
                await self._resync()
        elif kind == "error":
            logger.warning("hyvve_state: server error on the subscription: %s", message)

    def _adopt_epoch(self, epoch: str) -> None:
        """A new epoch means the store lost the user's counter: revisions start over."""
        if epoch and self._epoch and epoch != self._epoch:
            logger.info("hyvve_state: store epoch changed (%s -> %s); revisions start over", self._epoch, epoch)
            self._delivered = -1
        if epoch:
            self._epoch = epoch

    async def _resync(self) -> None:
        """GET after (re)connecting: the state may have changed while nobody listened."""
        try:
            stored: Optional[StoredState] = await self._api.get(self._workspace_id, self._user_id)
        except AuthenticationError:
            raise
        except StateApiError as error:
            logger.warning("hyvve_state: resync failed (%s); waiting for the store", error)
            self.synced.set()
            return
        if stored is None:
            if self._has_state:
                await self._gone()
        else:
            self._adopt_epoch(stored.epoch)
            await self._deliver(stored.state, stored.revision)
        self.synced.set()

    async def _deliver(self, state: Any, revision: int) -> None:
        if not isinstance(state, dict) or revision <= self._delivered:
            return
        self._delivered = revision
        self._has_state = True
        await _call(self._on_state, state)

    async def _gone(self) -> None:
        self._has_state = False
        if self._on_deleted is not None:
            await _call(self._on_deleted)
