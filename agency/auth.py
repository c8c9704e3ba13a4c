"""The web side of authorisation: who is calling this request, and the route decorator.

Two kinds of credential:
- partner clients send ``X-API-Key: iak_<prefix>_<secret>``;
- users send ``Authorization: Bearer iat_<secret>`` from ``POST /auth/token``.

The rules themselves (principals, scopes, :func:`agency.access.authorize`,
:func:`agency.access.visible_to`) live in :mod:`agency.access`, which knows
nothing of Flask; only routes and other web-side modules import this one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from agency.access import Kind, Principal, digest
from agency.accounts import api_keys, credential_cache
from agency.accounts import service as accounts
from agency.change_feed import ChangeFeed, change_feed
from agency.errors import Forbidden, Unauthenticated
from agency.web import autocommit_connection

# A read a view makes on every request, carried by the bearer token's own statement: by
# endpoint, a function of the request giving (statement, parameters), or None to skip.
ReadWithToken = Callable[[], "tuple[Any, dict[str, Any]] | None"]
_reads_with_token: dict[str, ReadWithToken] = {}
NOT_READ = object()


def read_with_token(endpoint: str, build: ReadWithToken) -> None:
    """Let requests to ``endpoint`` (its full name) signed in with a bearer token read
    ``build()``'s statement in the token's round trip and snapshot; see :func:`token_read`.
    """
    _reads_with_token[endpoint] = build


# The same for requests with a partner's API key (any method: the function decides).
_reads_with_api_key: dict[str, ReadWithToken] = {}


def read_with_api_key(endpoint: str, build: ReadWithToken) -> None:
    """Let requests to ``endpoint`` (its full name) made with an API key read ``build()``'s
    statement in the key's round trip; see :func:`api_key_read`."""
    _reads_with_api_key[endpoint] = build


def api_key_read() -> Any:
    """The row read with this request's API key (None in every column: no row), or
    ``NOT_READ``. Read before any authorisation: the view authorises what it holds."""
    return g.get("api_key_read", NOT_READ)


def token_read() -> Any:
    """The row read with this request's token (None: no row), or ``NOT_READ``.

    Read before any authorisation: the view authorises what it holds, as it would have
    after reading it itself.
    """
    return g.get("token_read", NOT_READ)


def current_principal(required: bool = True) -> Principal | None:
    """The authenticated principal of this request (401 when required and absent)."""
    if "principal" not in g:
        g.principal = _authenticate()
    if g.principal is None and required:
        raise Unauthenticated()
    return g.principal


def _authenticate() -> Principal | None:
    """The principal of the one credential the request presents, None for none.

    A header that is present counts, even empty: an empty or wrong credential is 401, never
    ignored, and so are two credentials at once (an API key and a bearer token), of which
    neither could be told to be the one meant.
    """
    api_key = request.headers.get("X-API-Key")
    authorization = request.headers.get("Authorization")
    if api_key is not None and authorization is not None:
        raise Unauthenticated("Send one credential: X-API-Key or Authorization, not both.")
    if api_key is not None:
        if not api_key.strip():
            raise Unauthenticated("The X-API-Key header is empty.")
        cache_key = "key:" + digest(api_key)
        feed = change_feed(current_app)
        mark = feed.mark() if feed is not None else None  # before the read
        cached = _cached(cache_key, feed)
        if cached is not None:
            return cached
        changes = credential_cache.local_changes  # before the read
        build = _reads_with_api_key.get(request.endpoint or "")
        read = build() if build is not None else None
        principal: Principal
        with autocommit_connection() as connection:  # one round trip, no transaction
            principal, row = api_keys.principal_and_read_for_api_key(
                connection, api_key, *read or ()
            )
        if read is not None:
            g.api_key_read = row
        _credentials().put(cache_key, principal, changes, None, mark)
        return principal
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        cache_key = "token:" + digest(token)
        feed = change_feed(current_app)
        mark = feed.mark() if feed is not None else None
        cached = _cached(cache_key, feed)
        if cached is not None:
            return cached
        changes = credential_cache.local_changes
        build = _reads_with_token.get(request.endpoint or "")
        read = build() if build is not None and request.method == "GET" else None
        with autocommit_connection() as connection:
            principal, row, expires_at = accounts.principal_and_read_for_access_token(
                connection, token, *read or ()
            )
        if read is not None:
            g.token_read = row if row is None or any(v is not None for v in row) else None
        _credentials().put(cache_key, principal, changes, expires_at, mark)
        return principal
    return None


def _credentials() -> credential_cache.CredentialCache:
    cache = current_app.extensions.get("agency.credentials")
    if cache is None:
        cache = current_app.extensions["agency.credentials"] = credential_cache.CredentialCache()
    return cache  # type: ignore[no-any-return]


def _cached(cache_key: str, feed: ChangeFeed | None) -> Principal | None:
    """The principal this process resolved for the credential in the last second, for a
    read (GET, HEAD) only: a write always reads its credential
    (:mod:`agency.accounts.credential_cache`)."""
    if request.method not in _READS:
        return None
    return _credentials().get(cache_key, feed)


_READS = frozenset({"GET", "HEAD"})


def requires(*kinds: Kind) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route decorator: 401 without credentials, 403 for a principal of another kind."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            assert principal is not None
            if kinds and principal.kind not in kinds and principal.kind is not Kind.ADMIN:
                raise Forbidden(
                    f"This endpoint is for {', '.join(k.value for k in kinds)} principals."
                )
            return view(*args, **kwargs)

        wrapper._agency_kinds = kinds  # type: ignore[attr-defined]
        return wrapper

    return decorator
