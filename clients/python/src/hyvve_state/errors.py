"""Typed errors of the state API: one class per outcome an agent may act on, each with
the context the server gave (status, error code, message and the body's extra fields)."""

from __future__ import annotations

from typing import Any, Dict, Optional


class StateApiError(Exception):
    """Base class: a request to the state API did not do what was asked."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        body: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body: Dict[str, Any] = body or {}


class ConfigurationError(StateApiError):
    """The client is set up wrongly (no token source, bad URL, bad id)."""


class AuthenticationError(StateApiError):
    """401: the token was refused (bad signature, expired, wrong claims)."""


class InvalidStateError(StateApiError):
    """400: the state (or patch) fails the schema; `path` names the field refused."""

    @property
    def path(self) -> Optional[str]:
        value = self.body.get("path")
        return value if isinstance(value, str) else None


class StateTooLargeError(StateApiError):
    """413, or found before sending: the state's JSON is over MAX_STATE_SIZE_BYTES."""

    def __init__(self, size: int, limit: int, **kwargs: Any) -> None:
        super().__init__(f"state is {size} bytes, over the {limit} byte limit", **kwargs)
        self.size = size
        self.limit = limit


class StateNotFoundError(StateApiError):
    """404: nothing is stored (never saved, deleted, or expired)."""


class PreconditionFailedError(StateApiError):
    """412: `If-Match` named a revision that is no longer the stored one."""

    @property
    def current_revision(self) -> Optional[int]:
        value = self.body.get("revision")
        return value if isinstance(value, int) else None


class ConflictError(StateApiError):
    """409: a newer state is stored (`current` holds it, when the server sent it), or a
    patch does not apply / kept racing."""

    @property
    def current(self) -> Optional[Dict[str, Any]]:
        value = self.body.get("current")
        return value if isinstance(value, dict) else None


class RateLimitedError(StateApiError):
    """429: saving too fast; `retry_after` seconds is when the server admits another."""

    def __init__(self, message: str, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StoreUnavailableError(StateApiError):
    """503 store_unavailable: the server is up but cannot reach Redis."""


class ServerUnreachableError(StateApiError):
    """No answer from the server: connection refused, reset or timed out."""


class UnexpectedResponseError(StateApiError):
    """Any other answer (5xx, an unknown status, a body that is not what the API says)."""


class MergeExhaustedError(StateApiError):
    """A whole-state save lost the race to other writers on every attempt."""


#: Failures that mean "persistence is unavailable right now": the story's graceful
#: degradation turns these into a warning and False / None.
DEGRADED_ERRORS = (
    StoreUnavailableError,
    ServerUnreachableError,
    RateLimitedError,
    StateTooLargeError,
    MergeExhaustedError,
)
