"""Throttled sign-in: failed password attempts are counted per account and per client address.

flask-limiter checks both limits *before* the view runs, so a throttled attempt is
refused with 429 (and ``Retry-After``) without touching the database or spending an
argon2 verification; only attempts that end in 401 are counted (``deduct_when``), so
a user who types the password right is never held back by their own successes.
Counters live in Redis when ``REDIS_URL`` is set (shared by every gunicorn worker
and instance), in process memory for the embedded default.

The counters are keyed by an HMAC of the normalised email and of the address, never
the values themselves: limiter keys end up in Redis and in flask-limiter's log line,
and both are personal data.

Any sign-in view (the API's ``POST /auth/token``, the console's form) opts in with
``@throttled_sign_in``: the email is read from a JSON body or a form field.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter

_FAILED = 401

limiter = Limiter(key_func=lambda: request.remote_addr or "unknown", enabled=True)


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["agency"].settings


def _keyed(kind: str, value: str) -> str:
    settings = _settings()
    mac = hmac.new(settings.secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    # The queue name keeps apart deployments (and test runs) that share one Redis.
    return f"{settings.queue_name}:{kind}:{mac.hexdigest()[:32]}"


def _submitted_email() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    return str(email).strip().lower() if isinstance(email, str) else ""


def account_key() -> str:
    return _keyed("login-account", _submitted_email())


def address_key() -> str:
    return _keyed("login-address", request.remote_addr or "unknown")


def _failed(response: Response) -> bool:
    return response.status_code == _FAILED


def _per_account() -> str:
    return _settings().login_limit_per_account


def _per_address() -> str:
    return _settings().login_limit_per_address


_MESSAGE = "Too many failed sign-in attempts. Wait before trying again (see Retry-After)."


def throttled_sign_in(view):  # type: ignore[no-untyped-def]
    """Decorate a sign-in view: 429 once the account or the address has failed too often."""
    view = limiter.limit(
        _per_account,
        key_func=account_key,
        deduct_when=_failed,
        error_message=_MESSAGE,
        scope="login-account",
    )(view)
    return limiter.limit(
        _per_address,
        key_func=address_key,
        deduct_when=_failed,
        error_message=_MESSAGE,
        scope="login-address",
    )(view)


def _per_registering_address() -> str:
    return _settings().registration_limit_per_address


def _per_registered_email() -> str:
    return _settings().registration_limit_per_email


def registration_email_key() -> str:
    return _keyed("register-email", _submitted_email())


def registration_address_key() -> str:
    return _keyed("register-address", request.remote_addr or "unknown")


_REGISTRATION_MESSAGE = (
    "Too many registration requests. Wait before trying again (see Retry-After)."
)


def throttled_registration(view):  # type: ignore[no-untyped-def]
    """Decorate a registration view: every request counts (each one mails someone), per
    client address and per email (so nobody's mailbox can be flooded with codes)."""
    view = limiter.limit(
        _per_registered_email,
        key_func=registration_email_key,
        error_message=_REGISTRATION_MESSAGE,
        scope="register-email",
    )(view)
    return limiter.limit(
        _per_registering_address,
        key_func=registration_address_key,
        error_message=_REGISTRATION_MESSAGE,
        scope="register-address",
    )(view)


def init_throttling(app: Flask, storage_uri: str | None) -> None:
    """Attach the limiter to ``app`` with Redis (shared) or in-memory storage."""
    app.config.update(
        RATELIMIT_STORAGE_URI=storage_uri or "memory://",
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_HEADER_RETRY_AFTER_VALUE="delta-seconds",
        # Redis down must not lock every user out: each process falls back to counting in
        # memory, and the storage error is logged.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    limiter.init_app(app)
    # Every limit here decorates its view, whose wrapper checks it. flask-limiter also
    # checks in a before_request hook, where only default and application-wide limits
    # count; with none configured that hook counts nothing on any request, yet it cost
    # about a sixth of a bare request's CPU, so it is taken off.
    # (init_app registers the hook only the first time it sees an app.)
    manager = limiter.limit_manager
    hooks = app.before_request_funcs.get(None, [])
    unlimited = not manager.default_limits and not manager.application_limits
    if unlimited and limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
