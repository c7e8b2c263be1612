"""The story's module-level functions, over the default client (service.configure or the
environment). Each (workspace, user) has one service per client, so a `load_state`
followed by a `save_state` merges against what was loaded, as an agent expects."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Tuple

from .client import StateClient
from .http_api import Patch
from .service import StatePersistenceService, default_client
from .subscription import DeletedCallback, StateCallback

_services: Dict[Tuple[int, str, str], StatePersistenceService] = {}


def service_for(workspace_id: str, user_id: str, client: Optional[StateClient] = None) -> StatePersistenceService:
    """The shared service of (workspace, user) on `client` (default: the default client)."""
    chosen = client if client is not None else default_client()
    key = (id(chosen), workspace_id, user_id)
    service = _services.get(key)
    if service is None or service.client is not chosen:
        service = StatePersistenceService(workspace_id, user_id, client=chosen)
        _services[key] = service
    return service


async def save_state(workspace_id: str, user_id: str, state: Dict[str, Any]) -> bool:
    """Save dashboard state (merged with concurrent changes; the server keeps it with its TTL)."""
    return await service_for(workspace_id, user_id).save(state)


async def load_state(workspace_id: str, user_id: str) -> Optional[Dict[str, Any]]:
    """Load dashboard state; None when nothing is stored or persistence is unavailable."""
    return await service_for(workspace_id, user_id).load()


async def delete_state(workspace_id: str, user_id: str) -> bool:
    """Delete dashboard state."""
    return await service_for(workspace_id, user_id).delete()


async def patch_state(workspace_id: str, user_id: str, patch: Patch) -> bool:
    """Change part of the state (merge patch dict or JSON Patch list) without clobbering the rest."""
    return await service_for(workspace_id, user_id).patch(patch)


async def subscribe_to_state(
    workspace_id: str,
    user_id: str,
    callback: StateCallback,
    *,
    on_deleted: Optional[DeletedCallback] = None,
) -> None:
    """Subscribe to state updates: calls `callback(state)` with every newer state until the
    task running this is cancelled (then the connection is closed). Reconnects by itself."""
    service = StatePersistenceService(workspace_id, user_id, client=default_client())
    await service.subscribe(callback, on_deleted=on_deleted)
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        await service.unsubscribe()
