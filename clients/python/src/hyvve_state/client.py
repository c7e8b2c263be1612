"""Connection settings shared by every service of one process: the server's URL, where
tokens come from, timeouts and bounds. Built from arguments or from the environment:
HYVVE_STATE_URL (default http://127.0.0.1:3000), HYVVE_AUTH_SECRET or AUTH_SECRET (the
server's secret, to sign service tokens), HYVVE_AUTH_ISSUER / HYVVE_AUTH_AUDIENCE."""

from __future__ import annotations

import os
import uuid
from typing import Mapping, Optional

import httpx

from .errors import ConfigurationError
from .http_api import HttpStateApi
from .tokens import DEFAULT_TOKEN_LIFETIME_SECONDS, TokenProvider, token_source

DEFAULT_URL = "http://127.0.0.1:3000"


class StateClient:
    """One server and one token source; hands out the HTTP API used by the services."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        *,
        token_provider: Optional[TokenProvider] = None,
        secret: Optional[str] = None,
        issuer: Optional[str] = None,
        audience: Optional[str] = None,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
        timeout: float = 10.0,
        max_rate_limit_wait: float = 5.0,
        max_save_attempts: int = 5,
        origin: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        environ = os.environ if env is None else env
        url = base_url or environ.get("HYVVE_STATE_URL") or DEFAULT_URL
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must start with http:// or https:// (got {url!r})")
        if token_provider is None and secret is None:
            secret = environ.get("HYVVE_AUTH_SECRET") or environ.get("AUTH_SECRET") or None
        if max_save_attempts < 1:
            raise ConfigurationError("max_save_attempts must be at least 1")
        tokens = token_source(
            token_provider,
            secret,
            **(
                {}
                if token_provider is not None
                else {
                    "expires_in": token_lifetime,
                    "issuer": issuer or environ.get("HYVVE_AUTH_ISSUER") or None,
                    "audience": audience or environ.get("HYVVE_AUTH_AUDIENCE") or None,
                }
            ),
        )
        #: Sent with whole-state saves; published with them, so views can tell who wrote.
        self.origin = origin or f"py-agent-{uuid.uuid4().hex[:12]}"
        self.max_save_attempts = max_save_attempts
        self.api = HttpStateApi(
            url,
            tokens,
            timeout=timeout,
            max_rate_limit_wait=max_rate_limit_wait,
            origin=self.origin,
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return self.api.base_url

    async def aclose(self) -> None:
        """Closes this event loop's connection pool."""
        await self.api.aclose()
