"""A care request's suggestions as last sent, kept per state of their rows (PostgreSQL).

Managers reload a request's suggestions far more often than a match run, a rejection or
an introduction changes them. Each read still asks the database, in one statement on an
autocommit connection (one round trip, one snapshot), for the request's owners (agency,
council, partner), which are authorised on every read exactly as
:func:`matchmaking.list_suggestions` does (same 404 for a missing or hidden request,
same 403 for a partner), and for the **state** of the suggestions the status filter
selects: the md5 of their ids, each with its row version's ``xmin`` (the transaction that
wrote that version of the row). A row inserted, updated (a new match run superseding
the ranking, a rejection, an introduction) or deleted changes the state, so a body kept
under the old state is never served again; only the serialised body is reused, never a
decision about who may read it. A body is stored under the state read in the same
statement as its rows, so the two always agree.

The route has that statement read in the same round trip as the caller's bearer token
(``agency.auth.read_with_token``: one statement, one snapshot, the token's revocation
and expiry checked as always) when the token is read. The row is authorised here, after
the principal is known, on every read.

With the change feed (PostgreSQL, ``CHANGE_FEED`` on: :mod:`agency.change_feed`) the
process also keeps that row until a notification says the request or its suggestions
changed (triggers send one on every commit that does), so a reload whose token is kept
too (:mod:`agency.accounts.credential_cache`) sends no statement at all. A commit made
elsewhere shows once its notification reaches this process: a moment after it.

Other databases (the embedded SQLite default) have no ``xmin``: they read and serialise
every time, through :func:`matchmaking.list_suggestions`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

from sqlalchemy import String, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, authorize, not_found
from agency.change_feed import ChangeFeed
from agency.errors import Forbidden
from agency.introductions.matchmaking import (
    list_suggestions,
    request_and_suggestions,
    selected_suggestions,
)
from agency.introductions.models import Suggestion
from agency.seekers.models import CareRequest

MAX_ENTRIES = 256  # a page of 20 explained suggestions is ~12 kB
MAX_AGE_S = 300.0  # a safety net only: the state check alone keeps bodies current
Render = Callable[[list[Suggestion]], bytes]


class SuggestionPages:
    """Serialised bodies by (request, status filter, reader kind, state); LRU, per process.

    With a change feed (PostgreSQL, :mod:`agency.change_feed`) it also keeps each
    request's owners-and-state row until a change to the request or its suggestions is
    committed, so a reload whose credential is kept too (agency.accounts.credential_cache)
    sends no statement at all.
    """

    def __init__(self) -> None:
        self._bodies: OrderedDict[tuple[Any, ...], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, str], tuple[Any, int, float]] = {}

    def owners(self, feed: ChangeFeed, request_id: str, status: str) -> Any:
        """The kept owners row of (request, status filter) if nothing changed since, or None."""
        kept = self._owners.get((request_id, status))
        if kept is None or not feed.current(request_id, kept[1], kept[2]):
            return None
        return kept[0]

    def keep_owners(self, request_id: str, status: str, row: Any, mark: int) -> None:
        if len(self._owners) >= MAX_ENTRIES * 4:
            self._owners.clear()
        self._owners[(request_id, status)] = (row, mark, time.monotonic())

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            hit = self._bodies.get(key)
            if hit is None or time.monotonic() - hit[0] > MAX_AGE_S:
                return None
            self._bodies.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            self._bodies[key] = (time.monotonic(), body)
            self._bodies.move_to_end(key)
            while len(self._bodies) > MAX_ENTRIES:
                self._bodies.popitem(last=False)


def _state(status: str) -> Any:
    """md5 of the selected suggestions' ids and row versions, in id order ('' hashed if none)."""
    version = Suggestion.id + ":" + cast(literal_column("suggestions.xmin"), String)
    listed = func.string_agg(version, aggregate_order_by(",", Suggestion.id))
    return (
        select(func.md5(func.coalesce(listed, "")))
        .where(selected_suggestions(status))
        .correlate(CareRequest)
        .scalar_subquery()
        .label("state")
    )


# Built once per filter value (SQLAlchemy caches their compiled form by structure too).
# Bind parameter: ``request_id``. A route may have it read with the caller's credential
# (agency.auth.read_with_token) and pass the row in as ``owners``.
OWNERS = {
    status: select(
        CareRequest.id,
        CareRequest.agency_id,
        CareRequest.council_id,
        CareRequest.partner_client_id,
        _state(status),
    ).where(CareRequest.id == bindparam("request_id"))
    for status in ("active", "superseded", "rejected", "introduced", "all")
}


def _rows_with_state(
    session: Session, principal: Principal, request_id: str, status: str
) -> tuple[list[Any], str]:
    """The request's selected suggestions, best first, and their state: one snapshot.

    The request is authorised again as this snapshot has it, so a body is only ever
    served to a reader its own rows allow.
    """
    rows = request_and_suggestions(session, principal, request_id, status, _state(status))
    return [suggestion for _, suggestion, _ in rows if suggestion is not None], rows[0][2]


def suggestions_body(
    sessions: Callable[[], AbstractContextManager[Session]],
    principal: Principal,
    request_id: str,
    status: str,
    pages: SuggestionPages,
    render: Render,
    owners: Sequence[Any] | None | Literal[False] = False,
    feed: ChangeFeed | None = None,
) -> bytes:
    """The JSON body of a request's suggestions for ``principal`` (404/403 as before).

    ``sessions`` opens a session, best an autocommit one (each statement its own
    snapshot, no BEGIN/ROLLBACK), used only for what ``owners`` does not hold: the row
    of ``OWNERS[status]`` when the caller has read it already (None: it found no
    request), or False to read it here, or to take it from ``pages`` when ``feed`` says
    nothing of the request changed since it was read. ``render`` turns suggestions into
    the body.
    """
    mark = None
    if owners is False and feed is not None:
        mark = feed.mark()
        kept = pages.owners(feed, request_id, status) if mark is not None else None
        if kept is not None:
            owners = kept
    if owners is False:
        with sessions() as session:
            if session.get_bind().dialect.name != "postgresql":
                return render(list_suggestions(session, principal, request_id, status))
            # Core on the session's connection: no ORM execution layer for one plain row.
            statement = OWNERS[status]
            owners = session.connection().execute(statement, {"request_id": request_id}).first()
        if owners is not None and mark is not None:
            pages.keep_owners(request_id, status, owners, mark)
    if owners is None:
        raise not_found(CareRequest, request_id)
    _, agency_id, council_id, partner_client_id, state = owners
    care_request = CareRequest(
        id=request_id,
        agency_id=agency_id,
        council_id=council_id,
        partner_client_id=partner_client_id,
    )
    authorize(principal, Action.READ, care_request)
    if principal.kind is Kind.PARTNER:
        raise Forbidden(
            "Suggestions are for the agency's managers; partners see the matching status."
        )
    body = pages.get((request_id, status, principal.kind, state))
    if body is None:
        with sessions() as session:
            suggestions, state = _rows_with_state(session, principal, request_id, status)
            body = render(suggestions)
        pages.put((request_id, status, principal.kind, state), body)
    return body
