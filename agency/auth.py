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

from flask import g, request

from agency.access import Kind, Principal
from agency.accounts import api_keys
from agency.accounts import service as accounts
from agency.errors import Forbidden, Unauthenticated
from agency.web import autocommit_session


def current_principal(required: bool = True) -> Principal | None:
    """The authenticated principal of this request (401 when required and absent)."""
    if "principal" not in g:
        g.principal = _authenticate()
    if g.principal is None and required:
        raise Unauthenticated()
    return g.principal


def _authenticate() -> Principal | None:
    api_key = request.headers.get("X-API-Key")
    authorization = request.headers.get("Authorization", "")
    if api_key:
        with autocommit_session() as session:  # one round trip, no transaction
            return api_keys.principal_for_api_key(session, api_key)
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        with autocommit_session() as session:
            return accounts.principal_for_access_token(session, value.strip())
    return None


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
