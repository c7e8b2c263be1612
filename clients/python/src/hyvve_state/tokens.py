"""Where the client's bearer tokens come from: a callable of the caller's (an identity
provider, a vault), or service tokens signed here from the server's shared AUTH_SECRET
with the claims packages/server/src/auth/token.ts requires (HS256, `sub` = user,
`wid` = workspace, `iat`, `exp`; `iss` / `aud` when the server sets AUTH_ISSUER /
AUTH_AUDIENCE). Signed tokens are cached until shortly before they expire."""

from __future__ import annotations

import inspect
import time
from typing import Awaitable, Callable, Dict, Optional, Protocol, Tuple, Union

import jwt

from .errors import ConfigurationError
from .state import check_id

#: (workspace_id, user_id) -> token, plain or awaitable.
TokenProvider = Callable[[str, str], Union[str, Awaitable[str]]]

#: Lifetime of signed tokens; the server refuses more than AUTH_MAX_TOKEN_TTL_SECONDS (24 h).
DEFAULT_TOKEN_LIFETIME_SECONDS = 900
#: A cached token is replaced this long before it expires.
RENEW_BEFORE_SECONDS = 60


class TokenSource(Protocol):
    async def token(self, workspace_id: str, user_id: str, *, fresh: bool = False) -> str:
        """A token for (workspace, user); `fresh` after the server refused the last one."""
        ...


def sign_token(
    secret: str,
    workspace_id: str,
    user_id: str,
    *,
    expires_in: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
    issuer: Optional[str] = None,
    audience: Optional[str] = None,
    now: Optional[float] = None,
) -> str:
    """An HS256 service token for one user of one workspace, as `npm run token` signs."""
    check_id("workspace_id", workspace_id)
    check_id("user_id", user_id)
    if not secret:
        raise ConfigurationError("the token secret must not be empty")
    if not isinstance(expires_in, int) or expires_in <= 0:
        raise ConfigurationError("expires_in must be a positive number of seconds")
    issued = int(now if now is not None else time.time())
    claims: Dict[str, object] = {
        "sub": user_id,
        "wid": workspace_id,
        "iat": issued,
        "exp": issued + expires_in,
    }
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})


class SecretTokens:
    """Signs tokens from the shared secret; one cached per (workspace, user)."""

    def __init__(
        self,
        secret: str,
        *,
        expires_in: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
        issuer: Optional[str] = None,
        audience: Optional[str] = None,
    ) -> None:
        if not secret:
            raise ConfigurationError("the token secret must not be empty")
        if expires_in <= RENEW_BEFORE_SECONDS:
            raise ConfigurationError(f"expires_in must be over {RENEW_BEFORE_SECONDS} s")
        self._secret = secret
        self._expires_in = expires_in
        self._issuer = issuer
        self._audience = audience
        self._cache: Dict[Tuple[str, str], Tuple[str, float]] = {}

    async def token(self, workspace_id: str, user_id: str, *, fresh: bool = False) -> str:
        key = (workspace_id, user_id)
        cached = self._cache.get(key)
        now = time.time()
        if cached is not None and not fresh and cached[1] - RENEW_BEFORE_SECONDS > now:
            return cached[0]
        token = sign_token(
            self._secret,
            workspace_id,
            user_id,
            expires_in=self._expires_in,
            issuer=self._issuer,
            audience=self._audience,
            now=now,
        )
        self._cache[key] = (token, now + self._expires_in)
        return token


class ProviderTokens:
    """Asks the caller's provider for every connection and request (it may cache)."""

    def __init__(self, provider: TokenProvider) -> None:
        if not callable(provider):
            raise ConfigurationError("token_provider must be callable")
        self._provider = provider

    async def token(self, workspace_id: str, user_id: str, *, fresh: bool = False) -> str:
        result = self._provider(workspace_id, user_id)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, str) or not result:
            raise ConfigurationError("token_provider returned no token (want a non-empty str)")
        return result


def token_source(
    token_provider: Optional[TokenProvider], secret: Optional[str], **signing: object
) -> TokenSource:
    if token_provider is not None and secret is not None:
        raise ConfigurationError("give token_provider or secret, not both")
    if token_provider is not None:
        return ProviderTokens(token_provider)
    if secret is not None:
        return SecretTokens(secret, **signing)  # type: ignore[arg-type]
    raise ConfigurationError(
        "no token source: pass token_provider= or secret= (or set HYVVE_AUTH_SECRET / AUTH_SECRET)"
    )


__all__ = [
    "TokenProvider",
    "TokenSource",
    "SecretTokens",
    "ProviderTokens",
    "sign_token",
    "token_source",
]
