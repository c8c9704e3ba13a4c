"""The console blueprint: who is signed in, CSRF on every POST, HTML error pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from agency.access import Kind, Principal
from agency.accounts import service as accounts
from agency.errors import DomainError
from agency.web import db_session

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="../static/console",
    static_url_path="/static",
)
csrf = CSRFProtect()

STAFF = (Kind.MANAGER, Kind.AUDITOR)
TOKEN_KEY = "console_token"  # noqa: S105 - a session key name; its auth_tokens row is the session
PUBLIC_ENDPOINTS = {"console.sign_in", "console.static"}


@bp.before_request
def check_csrf() -> None:
    """Every form the console accepts carries Flask-WTF's token (400 without it)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.before_request
def load_principal() -> Response | None:
    """Resolve the signed-in staff member from the server-side token, or send to sign-in."""
    g.console_principal = None
    token = session.get(TOKEN_KEY)
    if token:
        try:
            principal = accounts.principal_for_access_token(db_session().connection(), token)
        except DomainError:
            session.pop(TOKEN_KEY, None)
            flash("Your session has ended. Please sign in again.", "info")
            principal = None
        if principal is not None and principal.kind in STAFF:
            g.console_principal = principal
            # The API's helpers (reports, charts) read the request's principal from here.
            g.principal = principal
    if g.console_principal is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    return None


# Pages carry personal data and forms: never cached (a shared computer's back button after
# sign-out shows nothing), never framed (clickjacking), scripts and forms only from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@bp.after_request
def protect_pages(response: Response) -> Response:
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def staff(*kinds: Kind) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator: the page is for these kinds of staff; others get a 403 page."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if principal().kind not in kinds:
                return render_template(
                    "console/error.html",
                    title="Not available",
                    message="This page is not part of your role's console.",
                ), 403
            return view(*args, **kwargs)

        return wrapper

    return decorator


def principal() -> Principal:
    found: Principal | None = g.get("console_principal")
    assert found is not None  # load_principal redirected otherwise
    return found


COMPLIANCE_KINDS = {
    "dbs": "DBS check",
    "insurance": "Insurance",
    "training": "Training",
    "cqc_registration": "CQC registration",
}


@bp.app_template_filter("compliance_kind")
def compliance_kind(kind: str) -> str:
    return COMPLIANCE_KINDS.get(kind, kind.replace("_", " ").capitalize())


@bp.app_context_processor
def console_globals() -> dict[str, Any]:
    return {"console_principal": g.get("console_principal")}


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    return render_template(
        "console/error.html",
        title="Form expired",
        message="This form could not be accepted (its security token was missing or expired). "
        "Go back, reload the page and try again.",
    ), 400


@bp.errorhandler(429)
def too_many_attempts(_error: Exception) -> tuple[str, int]:
    """The sign-in throttle's refusal as a page (flask-limiter adds Retry-After itself)."""
    return render_template(
        "console/error.html",
        title="Too many attempts",
        message="Too many failed sign-in attempts. Wait a few minutes, then try again.",
    ), 429


@bp.errorhandler(DomainError)
def domain_error(error: DomainError) -> tuple[str, int]:
    """A refusal of the domain as an HTML page; 404s look the same whether hidden or missing."""
    if error.status == 404:
        return render_template(
            "console/error.html", title="Not found", message="There is no such page or record."
        ), 404
    return render_template(
        "console/error.html", title="Not done", message=error.message, errors=error.errors
    ), error.status


def refusal_message(error: DomainError) -> str:
    """One sentence for a flash message, with the fields named."""
    parts = [error.message]
    for field, messages in (error.errors or {}).items():
        texts = messages if isinstance(messages, list) else [str(messages)]
        parts.append(f"{field.replace('_', ' ')}: {' '.join(str(t) for t in texts)}")
    return " ".join(parts)
