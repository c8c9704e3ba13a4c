"""A web process keeps a request's suggestions state until PostgreSQL says it changed.

Committed for real (notifications are sent only on commit), with the change feed on, as
deployed. A change is made on a connection of its own, as another process (a worker, the
other gunicorn worker) would make it: no session hook of this process sees it, only the
notification does. PostgreSQL sends it on commit; it reaches the feed a moment later, so
the assertions wait up to two seconds for the new page.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from agency.accounts import credential_cache
from agency.change_feed import ChangeFeed, change_feed
from tests.conftest import soon
from tests.matchmaking.test_suggestion_pages import _ids, suggestions_world

pytestmark = [pytest.mark.postgres, pytest.mark.committed]


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(settings, change_feed=True)


@pytest.fixture(autouse=True)
def _credentials_kept_longer(monkeypatch):  # type: ignore[no-untyped-def]
    """The token's read (once a second) would read the owners too: only the feed may."""
    monkeypatch.setattr(credential_cache, "TTL_S", 60.0)


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    return suggestions_world(session)


def test_a_reload_sends_no_statement_while_nothing_changed(client, world):
    url, manager = world["url"], world["manager"]
    assert _ids(client.get(url, headers=manager)) == world["ids"]
    assert _ids(client.get(url, headers=manager)) == world["ids"]  # owners kept from here
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert _ids(client.get(url, headers=manager)) == world["ids"]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert statements == []


def test_a_change_committed_elsewhere_is_served_once_its_notification_arrives(
    client, world, elsewhere
):
    url, manager = world["url"], world["manager"]
    first = world["ids"][0]
    for _ in range(2):
        assert _ids(client.get(url, headers=manager)) == world["ids"]
    elsewhere("UPDATE suggestions SET status = 'rejected' WHERE id = :id", id=first)
    assert (
        soon(lambda: _ids(client.get(url, headers=manager)), world["ids"][1:]) == world["ids"][1:]
    )


def test_a_request_moved_elsewhere_is_hidden_once_its_notification_arrives(
    app, client, session, world, elsewhere
):
    from tests.factories import make_agency

    url, manager = world["url"], world["manager"]
    for _ in range(2):
        assert _ids(client.get(url, headers=manager)) == world["ids"]
    other = make_agency(session)
    session.commit()
    elsewhere(
        "UPDATE care_requests SET agency_id = :a WHERE id = :r", a=other.id, r=world["request"].id
    )
    assert soon(lambda: client.get(url, headers=manager).status_code, 404) == 404


def test_a_lost_listening_connection_voids_what_was_kept(app, client, world, elsewhere):
    url, manager = world["url"], world["manager"]
    for _ in range(2):
        assert _ids(client.get(url, headers=manager)) == world["ids"]
    feed = change_feed(app)
    assert feed is not None and feed._connection is not None
    pid = feed._connection.info.backend_pid
    elsewhere("SELECT pg_terminate_backend(:pid, 5000)", pid=pid)  # waits for it to end
    # Changed while nothing listens: no notification will ever say so.
    elsewhere("UPDATE suggestions SET status = 'rejected' WHERE id = :id", id=world["ids"][0])
    assert (
        soon(lambda: _ids(client.get(url, headers=manager)), world["ids"][1:]) == world["ids"][1:]
    )
    for _ in range(2):  # listening again: what was kept before the loss stays void
        assert _ids(client.get(url, headers=manager)) == world["ids"][1:]
    assert feed.mark() is not None


def test_without_a_listening_connection_every_read_asks_the_database(settings):
    feed = ChangeFeed(settings.database_url.replace("127.0.0.1:5432", "127.0.0.1:9"))
    assert feed.mark() is None
    assert feed.mark() is None  # and it does not try again at once


def test_each_commit_that_changes_a_request_or_its_suggestions_notifies_its_id(
    settings, session, world, elsewhere
):
    import psycopg
    from sqlalchemy.engine import make_url

    from agency.change_feed import CHANNEL
    from tests.matchmaking.test_suggestion_pages import _run

    dsn = make_url(settings.database_url).set(drivername="postgresql")
    request_id = world["request"].id
    with psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        _run(session, world["request"], world["providers"])  # superseded (update) and new rows
        elsewhere("DELETE FROM suggestions WHERE id = :id", id=world["ids"][0])
        elsewhere("UPDATE care_requests SET notes = 'Mornings' WHERE id = :r", r=request_id)
        elsewhere("UPDATE suggestions SET rank = rank WHERE false")  # touches no row
        # Notes and status are not on a kept page; its owner is.
        elsewhere("UPDATE care_requests SET council_id = council_id WHERE id = :r", r=request_id)
        elsewhere("UPDATE care_requests SET agency_id = NULL WHERE id = :r", r=request_id)
        heard = [n.payload for n in listener.notifies(timeout=1.0, stop_after=4)]
    assert heard == [request_id] * 3  # one per commit, repeats within one folded
