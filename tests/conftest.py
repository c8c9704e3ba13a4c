"""The test harness: real PostgreSQL and Redis when configured, SQLite and inline jobs otherwise.

- DATABASE_URL set: the suite runs on that server; unreachable is a hard failure.
- REDIS_URL set: jobs go through real RQ workers on that Redis; unreachable fails.
- AGENCY_REQUIRE_SERVICES=1 or CI=true: both must be set (CI never skips them).
- Neither set: SQLite in a temp folder, inline jobs; tests marked ``redis`` or
  ``postgres`` are skipped, and the summary says so.
The schema is built once by Alembic (never create_all); each test that uses the
database starts from empty tables (reference data seeded by migrations stays).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from agency import create_app
from agency.config import Settings
from agency.db import Base, dispose_engines
from agency.migrate import upgrade
from agency.models import REFERENCE_TABLES

DATABASE_URL = os.environ.get("DATABASE_URL") or None
REDIS_URL = os.environ.get("REDIS_URL") or None
REQUIRE = os.environ.get("AGENCY_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"
QUEUE_NAME = f"agency-test-{uuid.uuid4().hex[:8]}"


def _normalised(url: str) -> str:
    return Settings.from_env({"DATABASE_URL": url}).database_url


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE and not (DATABASE_URL and REDIS_URL):
        pytest.exit(
            "CI needs DATABASE_URL and REDIS_URL: PostgreSQL and Redis are not optional there", 3
        )
    if DATABASE_URL:
        try:
            with create_engine(_normalised(DATABASE_URL)).connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            pytest.exit(f"DATABASE_URL is set but the database is unreachable: {error}", 3)
    if REDIS_URL:
        from redis import Redis

        try:
            Redis.from_url(REDIS_URL, socket_timeout=3).ping()
        except Exception as error:
            pytest.exit(f"REDIS_URL is set but Redis is unreachable: {error}", 3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not (
            DATABASE_URL and DATABASE_URL.startswith("postgres")
        ):
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not REDIS_URL:
            item.add_marker(skip_redis)


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = "PostgreSQL (DATABASE_URL)" if DATABASE_URL else "SQLite (temporary file)"
    queue = (
        f"RQ on Redis (REDIS_URL), queue {QUEUE_NAME}"
        if REDIS_URL
        else "inline jobs (no REDIS_URL)"
    )
    return [f"agency: database {database}; jobs {queue}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and not (DATABASE_URL and REDIS_URL):
        terminalreporter.write_line(
            f"agency: {len(skipped)} tests skipped because PostgreSQL/Redis are not configured; "
            "set DATABASE_URL and REDIS_URL (as .ci/run does) to run them.",
            yellow=True,
        )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this run's own, migrated to head, dropped at the end.

    On PostgreSQL each run creates a scratch database on the DATABASE_URL server, so
    concurrent runs (two developers, CI) never see each other's rows.
    """
    if not DATABASE_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    base = _normalised(DATABASE_URL)
    name = f"agency_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        queue_name=QUEUE_NAME,
        single_queue=True,  # in-process tests drain one queue; tests/acceptance runs the three
        secret_key="test-secret-" + "x" * 32,
        log_level="WARNING",
    )


def _empty_tables(url: str) -> None:
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    from agency.db import get_engine

    engine = get_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE")
            )
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app(settings: Settings) -> Iterator:
    application = create_app(settings)
    application.testing = False  # errors go through the real JSON handlers, as in production
    yield application
    _empty_tables(settings.database_url)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def session(app) -> Iterator:  # type: ignore[no-untyped-def]
    """A session for arranging data and checking what the API wrote."""
    db = app.extensions["agency"].sessionmaker()
    yield db
    db.rollback()
    db.close()


@pytest.fixture
def rq_queue(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The test run's own RQ queue on the real Redis, emptied before and after.

    Workers read their settings from the environment, as in production, so the
    environment is pointed at this run's database and queue.
    """
    if not REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RQ_QUEUE", settings.queue_name)
    monkeypatch.setenv("RQ_SINGLE_QUEUE", "1")
    from agency.jobs.queue import rq_queue as queue_for

    queue = queue_for(REDIS_URL, QUEUE_NAME)
    queue.empty()
    yield queue
    queue.empty()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    dispose_engines()
