"""What belongs to one HTTP request: its database session, its id, its access log line."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request, Response
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from agency import db
from agency.csv_format import csv_lines, csv_text
from agency.db import bounded_sessionmaker
from agency.input_limits import check_request
from agency.privacy import pseudonym
from agency.unit_of_work import own_transaction

access_log = logging.getLogger("agency.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass(frozen=True)
class OperationAccess:
    """Who may call one API operation: anyone (``public``), or principals of ``kinds``."""

    public: bool
    kinds: tuple[Any, ...] = ()  # auth.Kind values; empty means any authenticated kind


def operation_access(app: Flask, endpoint: str | None, method: str) -> OperationAccess | None:
    """The access rule agency.api recorded for this operation (None: not an API route)."""
    operations = app.extensions.get("agency.operations", {})
    return operations.get((endpoint, "GET" if method == "HEAD" else method))  # type: ignore[no-any-return]


def web_sessionmaker(app: Flask) -> sessionmaker[Session]:
    """The sessions of web requests: every statement bounded, so none holds a worker past it.

    On PostgreSQL they use an engine whose connections start with the bound (and JIT off),
    so a request pays no ``SET`` round trip (agency.db.bounded_sessionmaker).
    """
    made = app.extensions.get("agency.web_sessions")
    if made is None:
        extension = app.extensions["agency"]
        made = bounded_sessionmaker(
            extension.sessionmaker, extension.settings.web_statement_timeout_ms
        )
        app.extensions["agency.web_sessions"] = made
    return made  # type: ignore[no-any-return]


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = web_sessionmaker(current_app._get_current_object())()  # type: ignore[attr-defined]
    return g.db  # type: ignore[no-any-return]


def _autocommit_sessions(app: Flask) -> sessionmaker[Session]:
    """Sessions (and, through their bind, connections) whose statements commit on their own."""
    made = app.extensions.get("agency.autocommit_sessions")
    if made is None:
        web = web_sessionmaker(app)
        engine = web.kw["bind"]
        if engine.dialect.name == "postgresql":  # a pool of its own: no per-use switching
            timeout = app.extensions["agency"].settings.web_statement_timeout_ms
            url = engine.url.render_as_string(hide_password=False)
            engine = db.get_engine(url, timeout, autocommit=True)
        else:
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        made = sessionmaker(bind=engine, expire_on_commit=False, info=web.kw.get("info", {}))
        app.extensions["agency.autocommit_sessions"] = made
    return made  # type: ignore[no-any-return]


@contextmanager
def autocommit_session() -> Iterator[Session]:
    """A short session whose statements each commit on their own: one round trip per query.

    For single-statement reads made on every request (the directory's change counter, a
    suggestions page's state): no BEGIN and ROLLBACK around them, and nothing read here
    is held in the request's own session (which opens only if the view uses it).
    """
    session = _autocommit_sessions(current_app._get_current_object())()  # type: ignore[attr-defined]
    try:
        yield session
    finally:
        session.close()


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """:func:`autocommit_session`'s connection without a session around it, for the Core
    statements every authenticated request makes (its credential's principal, a key's last
    use): the session's transaction bookkeeping cost as much CPU as the statement's
    execution. Each statement commits on its own; the closing commit has nothing left to
    send (it is what keeps a write where the connection is a test's savepoint)."""
    engine = _autocommit_sessions(current_app._get_current_object()).kw["bind"]  # type: ignore[attr-defined]
    with own_transaction(engine) as connection:
        yield connection


class CookieSessionsWhenSent(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the console's sign-in), opened cheaply without one.

    Flask builds its signing serializer on every request to open the session; API calls
    never send the cookie, so without it the session starts empty at once (a new cookie
    is still signed by ``save_session`` when a view writes to it).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_request_hooks(app: Flask) -> None:
    app.session_interface = CookieSessionsWhenSent()

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        # Accept a caller's id for tracing only when it looks like one (never log raw input).
        g.request_id = incoming if _REQUEST_ID.match(incoming) else "req_" + secrets.token_hex(8)

    @app.before_request
    def authenticate_then_check_input() -> None:
        # Who is calling comes before what they sent: an anonymous caller learns 401 (and a
        # principal of the wrong kind 403) before any 422 could describe the body's rules.
        if request.url_rule is None:
            return  # no route: the 404 or 405 says all there is to say
        access = operation_access(app, request.endpoint, request.method)
        if access is not None and not access.public:
            from agency.auth import requires

            # The view's own @requires rule, run now: 401 without credentials, 403 by kind.
            requires(*access.kinds)(lambda: None)()
        check_request(request)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not access_log.isEnabledFor(logging.INFO):
            return response
        principal = g.get("principal")
        duration_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        # Route template, not the URL: URLs can carry ids and query strings with personal data.
        access_log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "principal_id": principal.id if principal else None,
                "principal_kind": principal.kind.value if principal else None,
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round(duration_ms, 2),
            },
        )
        return response

    @app.teardown_request
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()


# --- what an auditor reads (used by response schemas, inside a request) ----------------------


def auditor_is_reading() -> bool:
    """True while answering a council auditor (schemas hide seeker ids and free text then)."""
    principal = g.get("principal") if has_request_context() else None
    return principal is not None and principal.kind.value == "auditor"


def seeker_pseudonym(seeker_id: str) -> str:
    """:func:`pseudonym` with this app's secret key (inside a request)."""
    return pseudonym(current_app.extensions["agency"].settings.secret_key, seeker_id)


# --- CSV downloads (the rows are written by agency.csv_format) --------------------------------

CSV_DOC = {"responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}}}


def csv_response(
    rows: Iterable[Iterable[object]],
    filename: str | None = None,
    *,
    lineterminator: str = "\r\n",
    stream: bool = True,
) -> Response:
    """A text/csv response, an attachment named ``filename`` when one is given.

    Streamed row by row by default (registers and lists can be large for a council): Flask
    ends the request (and closes its session) before a streamed body is read, so a
    generator reading the database must use a session of its own. ``stream=False`` sends
    a small document built in memory, with its length.
    """
    body = (
        csv_lines(rows, lineterminator=lineterminator)
        if stream
        else csv_text(rows, lineterminator=lineterminator)
    )
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
    return Response(body, mimetype="text/csv", headers=headers)
