"""The web's engine: bounded from the connection's start, pinging only idle connections."""

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, event, text

import agency.db
from agency import create_app
from agency.web import db_session, web_sessionmaker


def _app(settings):  # type: ignore[no-untyped-def]
    app = create_app(replace(settings, web_statement_timeout_ms=1500))

    @app.route("/backend-for-test")
    def backend():
        return {"pid": db_session().scalar(text("SELECT pg_backend_pid()"))}

    return app


@pytest.mark.postgres
@pytest.mark.committed  # the web's own engine and bound, on real connections
def test_a_request_sends_no_set_and_no_ping_on_a_connection_just_used(settings, app):
    bounded = _app(settings)
    client = bounded.test_client()
    client.get("/backend-for-test")
    statements: list[str] = []
    engine = web_sessionmaker(bounded).kw["bind"]
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/backend-for-test").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == ["SELECT pg_backend_pid()"]


@pytest.mark.postgres
@pytest.mark.committed  # the web's own engine and bound, on real connections
def test_an_idle_connection_the_server_closed_is_replaced_not_a_failed_request(
    settings, app, monkeypatch
):
    bounded = _app(settings)
    client = bounded.test_client()
    first = client.get("/backend-for-test").get_json()["pid"]
    other = create_engine(settings.database_url)
    with other.begin() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()
    monkeypatch.setattr(agency.db, "PING_AFTER_IDLE_S", 0.0)  # the connection counts as idle
    response = client.get("/backend-for-test")
    assert response.status_code == 200
    assert response.get_json()["pid"] != first
