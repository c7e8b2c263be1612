"""The REST half of the state API (GET / POST / PATCH / DELETE /api/dashboard/state) as
typed calls: every answer becomes a result or one of the errors in errors.py. Tokens come
from a TokenSource (a refused one is replaced once); 429 is waited out within a bound,
honouring the server's Retry-After. No merging or degradation here: see service.py."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import httpx

from .errors import (
    AuthenticationError,
    ConflictError,
    InvalidStateError,
    PreconditionFailedError,
    RateLimitedError,
    ServerUnreachableError,
    StateApiError,
    StateNotFoundError,
    StateTooLargeError,
    StoreUnavailableError,
    UnexpectedResponseError,
)
from .state import (
    JSON_PATCH_CONTENT_TYPE,
    MAX_STATE_SIZE_BYTES,
    MERGE_PATCH_CONTENT_TYPE,
    DashboardState,
    check_id,
    state_json,
)
from .tokens import TokenSource

logger = logging.getLogger("hyvve_state")

STATE_PATH = "/api/dashboard/state"
SUBSCRIBE_PATH = f"{STATE_PATH}/subscribe"
JSON_TYPE = "application/json"

Patch = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]


def etag_of(revision: int, epoch: str = "") -> str:
    """The entity tag the server gives a revision: `"<epoch>.<rev>"`, or `"<rev>"`."""
    return f'"{epoch}.{revision}"' if epoch else f'"{revision}"'


@dataclass(frozen=True)
class StoredState:
    """A stored copy: the state, its revision and epoch, and the server's save time (ms)."""

    state: DashboardState
    revision: int
    saved_at: int
    epoch: str = ""

    @property
    def etag(self) -> str:
        return etag_of(self.revision, self.epoch)

    @staticmethod
    def from_body(body: Any) -> "StoredState":
        if not isinstance(body, dict) or not isinstance(body.get("state"), dict):
            raise UnexpectedResponseError("stored state body has no state object", body={"body": body})
        return StoredState(
            state=body["state"],
            revision=int(body.get("revision", 0)),
            saved_at=int(body.get("savedAt", 0)),
            epoch=str(body.get("epoch") or ""),
        )


@dataclass(frozen=True)
class SaveResult:
    revision: int
    saved_at: int
    epoch: str = ""

    @property
    def etag(self) -> str:
        return etag_of(self.revision, self.epoch)


def _body_of(response: httpx.Response) -> Dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after_seconds(response: httpx.Response, body: Mapping[str, Any]) -> float:
    """The body's `retryAfterMs` (finer), else the Retry-After header, else 1 s."""
    millis = body.get("retryAfterMs")
    if isinstance(millis, (int, float)) and millis >= 0:
        return float(millis) / 1000
    header = response.headers.get("retry-after")
    try:
        return max(0.0, float(header)) if header is not None else 1.0
    except ValueError:
        return 1.0


def error_for(action: str, response: httpx.Response) -> StateApiError:
    """The typed error of a refused request, with the server's code and message."""
    body = _body_of(response)
    status = response.status_code
    code = body.get("error") if isinstance(body.get("error"), str) else None
    text = f"{action}: {status} {code or ''} {body.get('message', '')}".strip()
    context: Dict[str, Any] = {"status": status, "code": code, "body": body}
    if status == 401:
        return AuthenticationError(text, **context)
    if status in (400, 415):
        return InvalidStateError(text, **context)
    if status == 404:
        return StateNotFoundError(text, **context)
    if status == 409:
        return ConflictError(text, **context)
    if status == 412:
        return PreconditionFailedError(text, **context)
    if status == 413:
        raw_size, raw_limit = body.get("size"), body.get("limit")
        size = raw_size if isinstance(raw_size, int) else -1
        limit = raw_limit if isinstance(raw_limit, int) else MAX_STATE_SIZE_BYTES
        return StateTooLargeError(size, limit, **context)
    if status == 429:
        return RateLimitedError(text, _retry_after_seconds(response, body), **context)
    if status == 503:
        return StoreUnavailableError(text, **context)
    return UnexpectedResponseError(text, **context)


class HttpStateApi:
    """Typed REST calls for any (workspace, user) the token source can speak for."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        timeout: float = 10.0,
        max_rate_limit_wait: float = 5.0,
        origin: Optional[str] = None,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout
        self.max_rate_limit_wait = max_rate_limit_wait
        self.origin = origin
        self._transport = transport
        # One connection pool per event loop: an httpx client cannot move between loops
        # (the sync facade runs its own loop; scripts may call asyncio.run more than once).
        self._clients: Dict[int, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport)
            self._clients[loop_id] = client
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()

    async def _send(
        self,
        action: str,
        method: str,
        workspace_id: str,
        user_id: str,
        *,
        content: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> httpx.Response:
        check_id("workspace_id", workspace_id)
        check_id("user_id", user_id)
        url = f"{self.base_url}{STATE_PATH}"
        waited = 0.0
        fresh = False
        while True:
            token = await self.tokens.token(workspace_id, user_id, fresh=fresh)
            request_headers = {"authorization": f"Bearer {token}", **(headers or {})}
            try:
                response = await self._client().request(
                    method, url, content=content, headers=request_headers
                )
            except httpx.TransportError as error:
                raise ServerUnreachableError(
                    f"{action}: cannot reach {url}: {type(error).__name__}: {error}"
                ) from error
            if response.status_code == 401 and not fresh:
                # A cached or provided token may have expired meanwhile: one fresh try.
                fresh = True
                continue
            if response.status_code == 429:
                limited = error_for(action, response)
                assert isinstance(limited, RateLimitedError)
                pause = limited.retry_after + random.uniform(0, 0.05)
                if waited + pause > self.max_rate_limit_wait:
                    raise limited
                logger.info(
                    "%s: rate limited (429), retrying in %.2f s", action, pause,
                    extra={"workspace_id": workspace_id, "user_id": user_id},
                )
                waited += pause
                await asyncio.sleep(pause)
                continue
            return response

    async def get(
        self, workspace_id: str, user_id: str, *, if_none_match: Optional[str] = None
    ) -> Optional[StoredState]:
        """The stored copy, or None when nothing is stored (404) or it equals `if_none_match` (304)."""
        headers = {"accept": JSON_TYPE}
        if if_none_match is not None:
            headers["if-none-match"] = if_none_match
        response = await self._send("load", "GET", workspace_id, user_id, headers=headers)
        if response.status_code in (404, 304):
            return None
        if response.status_code != 200:
            raise error_for("load", response)
        try:
            return StoredState.from_body(response.json())
        except ValueError as error:
            raise UnexpectedResponseError(f"load: body is not JSON: {error}") from error

    async def post(
        self,
        workspace_id: str,
        user_id: str,
        state: DashboardState,
        *,
        if_match: Optional[str] = None,
    ) -> SaveResult:
        """Saves a whole state (newer wins; with `if_match`, only over that revision)."""
        body: Dict[str, Any] = {"state": state}
        if self.origin is not None:
            body["origin"] = self.origin
        headers = {"content-type": JSON_TYPE}
        if if_match is not None:
            headers["if-match"] = if_match
        content = state_json(body).encode("utf-8")
        response = await self._send("save", "POST", workspace_id, user_id, content=content, headers=headers)
        return self._saved("save", response)

    async def patch(
        self,
        workspace_id: str,
        user_id: str,
        patch: Patch,
        *,
        if_match: Optional[str] = None,
    ) -> SaveResult:
        """A merge patch (a dict, RFC 7386) or JSON Patch (a list, RFC 6902), applied by
        the server to the state stored at that moment."""
        content_type = MERGE_PATCH_CONTENT_TYPE if isinstance(patch, Mapping) else JSON_PATCH_CONTENT_TYPE
        headers = {"content-type": content_type}
        if if_match is not None:
            headers["if-match"] = if_match
        content = state_json(patch if isinstance(patch, Mapping) else list(patch)).encode("utf-8")
        response = await self._send("patch", "PATCH", workspace_id, user_id, content=content, headers=headers)
        return self._saved("patch", response)

    async def delete(self, workspace_id: str, user_id: str) -> None:
        response = await self._send("delete", "DELETE", workspace_id, user_id)
        if response.status_code not in (200, 204):
            raise error_for("delete", response)

    @staticmethod
    def _saved(action: str, response: httpx.Response) -> SaveResult:
        if response.status_code != 200:
            raise error_for(action, response)
        body = _body_of(response)
        if not isinstance(body.get("revision"), int):
            raise UnexpectedResponseError(f"{action}: answer has no revision", body=body)
        return SaveResult(
            revision=body["revision"],
            saved_at=int(body.get("savedAt", 0)),
            epoch=str(body.get("epoch") or ""),
        )


__all__ = ["HttpStateApi", "StoredState", "SaveResult", "etag_of", "error_for"]
