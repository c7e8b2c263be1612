"""hyvve_state: the story's agent API for HYVVE dashboard state (save_state, load_state,
delete_state, subscribe_to_state, StatePersistenceService) as a client of the server's
HTTP and WebSocket API. The server is the only writer of Redis; this package never
talks to Redis. See README.md."""

from .client import StateClient
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidStateError,
    MergeExhaustedError,
    PreconditionFailedError,
    RateLimitedError,
    ServerUnreachableError,
    StateApiError,
    StateNotFoundError,
    StateTooLargeError,
    StoreUnavailableError,
    UnexpectedResponseError,
)
from .functions import delete_state, load_state, patch_state, save_state, service_for, subscribe_to_state
from .http_api import HttpStateApi, SaveResult, StoredState
from .merge import MergeSideOrder, merge_dashboard_states
from .service import StatePersistenceService, configure, default_client
from .state import MAX_STATE_SIZE_BYTES, STATE_TTL_SECONDS, STATE_VERSION, initial_state
from .tokens import TokenProvider, sign_token

__all__ = [
    "save_state",
    "load_state",
    "delete_state",
    "patch_state",
    "subscribe_to_state",
    "service_for",
    "StatePersistenceService",
    "StateClient",
    "configure",
    "default_client",
    "HttpStateApi",
    "StoredState",
    "SaveResult",
    "merge_dashboard_states",
    "MergeSideOrder",
    "sign_token",
    "TokenProvider",
    "initial_state",
    "MAX_STATE_SIZE_BYTES",
    "STATE_TTL_SECONDS",
    "STATE_VERSION",
    "StateApiError",
    "ConfigurationError",
    "AuthenticationError",
    "InvalidStateError",
    "StateTooLargeError",
    "StateNotFoundError",
    "PreconditionFailedError",
    "ConflictError",
    "RateLimitedError",
    "StoreUnavailableError",
    "ServerUnreachableError",
    "UnexpectedResponseError",
    "MergeExhaustedError",
]
