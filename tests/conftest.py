"""The test harness: real PostgreSQL and Redis when configured, SQLite and inline jobs otherwise.

- DATABASE_URL set: the suite runs on that server; unreachable is a hard failure.
- REDIS_URL set: jobs go through real RQ workers on that Redis; unreachable fails.
- AGENCY_REQUIRE_SERVICES=1 or CI=true: both must be set (CI never skips them).
- Neither set: SQLite in a temp folder, inline jobs; tests marked ``redis`` or
  ``postgres`` are skipped, and the summary says so.

The schema is built once per process by Alembic (never create_all). With pytest-xdist
(``make test`` runs ``-n auto``) every worker has a scratch database and an RQ queue prefix
of its own. The app is built once per process for each distinct ``settings`` (a module
that overrides the ``settings`` fixture gets its own).

Each test that uses the app (``app``, ``client``, ``session``) runs inside one database
transaction that is rolled back at its end (warehouse's pattern): every session the
process makes in that test (the test's, the web requests', inline and in-process RQ jobs',
the CLI's, those of apps the test builds itself) is bound to that one connection, and a
service's ``commit()`` releases a SAVEPOINT. On PostgreSQL, a test whose data other
threads or processes must read (real workers, gunicorn, races between threads) is marked
``@pytest.mark.committed``: it commits for real and the tables it filled are emptied after
it. On SQLite every test runs that way.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

from agency import create_app
from agency.config import Settings
from agency.db import Base, dispose_engines
from agency.migrate import upgrade
from agency.models import REFERENCE_TABLES
from tests import demo_database

DATABASE_URL = os.environ.get("DATABASE_URL") or None
REDIS_URL = os.environ.get("REDIS_URL") or None
REQUIRE = os.environ.get("AGENCY_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"
# One id per run (xdist workers inherit the controller's), a suffix per xdist worker.
RUN_ID = os.environ.setdefault("AGENCY_TEST_RUN", uuid.uuid4().hex[:8])
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
QUEUE_NAME = f"agency-test-{RUN_ID}" + (f"-{WORKER}" if WORKER else "")

# Long tests (their own processes and databases) start first, each group on one worker.
LONG_GROUPS = {
    "tests/acceptance/": "acceptance",
    "tests/schemathesis/": "schemathesis",
    "tests/console/test_browser.py": "browser",
    "tests/test_processes.py": "processes",
}


def _normalised(url: str) -> str:
    return Settings.from_env({"DATABASE_URL": url}).database_url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "committed: the test's data is committed for real, because other threads or "
        "processes read it (no rollback); the tables it filled are emptied after it",
    )

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


def _long_group(item: pytest.Item) -> str | None:
    path = item.nodeid.split("::", 1)[0]
    return next((g for prefix, g in LONG_GROUPS.items() if path.startswith(prefix)), None)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
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
        group = _long_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    # The long groups first (in LONG_GROUPS' order), so that under `--dist loadscope` each
    # starts at once on a worker of its own and the short tests fill in around them.
    order = list(LONG_GROUPS.values())
    items.sort(key=lambda i: order.index(g) if (g := _long_group(i)) else len(order))


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = "PostgreSQL (DATABASE_URL)" if DATABASE_URL else "SQLite (temporary file)"
    queue = (
        f"RQ on Redis (REDIS_URL), queue {QUEUE_NAME}"
        if REDIS_URL
        else "inline jobs (no REDIS_URL)"
    )
    isolation = (
        "a rolled-back transaction per test (@pytest.mark.committed: real commits)"
        if DATABASE_URL
        else "tables emptied after each test"
    )
    return [f"agency: database {database}; jobs {queue}; {isolation}"]


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
    """A database of this process's own, migrated to head, dropped at the end.

    On PostgreSQL each run (each xdist worker) creates a scratch database on the
    DATABASE_URL server, so concurrent runs never see each other's rows. Commits there
    don't wait for the disk (synchronous_commit off): a crash of the server loses the
    last moments of a scratch database, and nothing else changes.
    """
    if not DATABASE_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    base = _normalised(DATABASE_URL)
    name = f"agency_test_{RUN_ID}_{WORKER or 'main'}_{uuid.uuid4().hex[:4]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        _apps.clear()
        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _server_url() -> str | None:
    """The PostgreSQL server of DATABASE_URL, or None (the suite is on SQLite)."""
    if DATABASE_URL and DATABASE_URL.startswith("postgres"):
        return _normalised(DATABASE_URL)
    return None


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> demo_database.DemoTemplate:
    """The Bristol demo, seeded once per run by the CLI (tests/demo_database.py).

    Take a copy of your own with ``demo_database.demo_clone(demo_template, prefix, folder)``.
    """
    base = tmp_path_factory.getbasetemp()
    return demo_database.demo_template(_server_url(), RUN_ID, base.parent if WORKER else base)


@pytest.fixture
def demo_copy(
    settings: Settings, demo_template: demo_database.DemoTemplate, tmp_path: Any
) -> Iterator[tuple[Settings, str]]:
    """A copy of the demo for this test alone: settings that point at it (jobs inline, as
    ``make run``), and what ``seed-demo`` printed. Dropped after the test."""
    with demo_database.demo_clone(demo_template, "agency_democopy", tmp_path) as url:
        yield replace(settings, database_url=url, redis_url=None), demo_template.output


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
        change_feed=False,  # a test's transaction never commits: no notification comes
    )


# --- the database of one test ------------------------------------------------------------


def _same_database(a: Any, b: str) -> bool:
    return make_url(str(a)).render_as_string(hide_password=False) == make_url(b).render_as_string(
        hide_password=False
    )


class _Branch:
    """``engine.connect()`` inside the test's transaction: a SAVEPOINT.

    What code that writes "in a transaction of its own" (the feed counter, the pool cache)
    gets from the test connection: its commit releases the savepoint, its rollback
    undoes only its own work.
    """

    def __init__(self, connection: TestConnection) -> None:
        self._connection = connection
        self._savepoint: Any = None

    def _begin(self) -> None:
        if self._savepoint is None or not self._savepoint.is_active:
            self._savepoint = self._connection.begin_nested()

    def __enter__(self) -> _Branch:
        self._begin()
        return self

    def __exit__(self, *_: Any) -> None:
        self.rollback()  # what was not committed (as a connection's close does)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._begin()
        return self._connection.execute(*args, **kwargs)

    def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        self._begin()
        return self._connection.exec_driver_sql(*args, **kwargs)

    def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self.execute(*args, **kwargs).scalar()

    def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self.execute(*args, **kwargs).scalars()

    def begin(self) -> _Branch:
        self._begin()
        return self

    def commit(self) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.commit()
        self._savepoint = None

    def rollback(self) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.rollback()
        self._savepoint = None

    def close(self) -> None:
        self.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class TestConnection(Connection):
    """The one connection of a test, standing in for the engine wherever the code asks.

    Sessions bound to it join the test's transaction with a SAVEPOINT each (the test keeps
    one open, so SQLAlchemy's default ``conservative_savepoint`` does that). It refuses use
    from another thread: such a test must be marked ``committed``.
    """

    __test__ = False  # not a test class

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._owner = threading.get_ident()
        self._outer = self.begin()
        self.begin_nested()

    @property
    def url(self) -> Any:
        return self.engine.url

    def connect(self) -> _Branch:  # type: ignore[override]
        return _Branch(self)

    def execution_options(self, **options: Any) -> TestConnection:  # type: ignore[override]
        options.pop("isolation_level", None)  # AUTOCOMMIT reads: inside the test, read here
        if options:
            super().execution_options(**options)
        return self

    def dispose(self, close: bool = True) -> None:
        pass

    def check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError(
                "another thread used the test's database connection: mark the test "
                "@pytest.mark.committed (its data is then committed for real)"
            )

    def end(self) -> None:
        if self._outer.is_active:
            self._outer.rollback()
        self.close()


def _check_thread(conn: Any, *_: Any) -> None:
    if isinstance(conn, TestConnection):
        conn.check_thread()


def _bind_to(connection: TestConnection, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine the code asks agency.db for, for the test database, is ``connection``.

    That covers the sessions of apps and worker containers built during the test
    (``session_factory``), the web's bounded and autocommit sessions and the CLI's
    ``session_scope``; modules that imported ``get_engine`` by name get the same.
    """
    import sys

    import agency.db

    real_get_engine = agency.db.get_engine

    def get_engine(asked: str, *args: Any, **kwargs: Any) -> Any:
        if _same_database(asked, url):
            return connection
        return real_get_engine(asked, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("agency") and getattr(module, "get_engine", None) is real_get_engine:
            monkeypatch.setattr(module, "get_engine", get_engine)


def _empty_tables(url: str) -> None:
    """Empty every table that holds rows (reference data seeded by migrations stays)."""
    from agency.db import get_engine

    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    engine = get_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            probe = " UNION ALL ".join(
                f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"  # noqa: S608
                for t in tables
            )
            filled = [row[0] for row in connection.execute(text(probe))]
            if filled:
                connection.execute(
                    text("TRUNCATE " + ", ".join(f'"{n}"' for n in filled) + " CASCADE")
                )
        else:
            for table in tables:
                connection.execute(table.delete())


def _forget_process_state() -> None:
    """What a process keeps between tests: worker containers (bound to a test's connection)."""
    import agency.worker

    agency.worker._containers.clear()


_apps: dict[str, Any] = {}
_PER_TEST_EXTENSIONS = (
    "agency.web_sessions",
    "agency.autocommit_sessions",
    "agency_page_cache",
    "agency.suggestion_pages",
    "agency.credentials",
)


def _app_for(settings: Settings) -> Any:
    """The app of these settings, built once per process (at most a few kept)."""
    key = repr(settings)
    application = _apps.get(key)
    if application is None:
        if len(_apps) >= 8:
            _apps.pop(next(iter(_apps)))
        # A copy: a test that changes the app's settings in place changes no fixture's.
        application = _apps[key] = create_app(replace(settings))
        application.testing = False  # errors go through the real JSON handlers, as in production
    return application


def _fresh_for_a_test(application: Any, bind: Any) -> None:
    """Undo what an earlier test left on a shared app: caches, sessions' bind, rate counts."""
    from agency.jobs.queue import install_process_runner
    from agency.web.throttle import init_throttling

    extension = application.extensions["agency"]
    for key in _PER_TEST_EXTENSIONS:
        application.extensions.pop(key, None)
    extension.sessionmaker.configure(bind=bind)
    init_throttling(application, extension.settings.redis_url)  # fresh limiter storage
    install_process_runner(extension.jobs)
    application._got_first_request = False  # a test may add a route (the app is then dropped)


def _done_with(application: Any, settings: Settings, routes: int) -> None:
    """Drop the app from the cache if the test changed it (its settings, its routes)."""
    for key in _PER_TEST_EXTENSIONS:
        application.extensions.pop(key, None)
    changed = repr(application.extensions["agency"].settings) != repr(settings)
    if changed or len(application.url_map._rules) != routes:
        _apps.pop(repr(settings), None)


@pytest.fixture(autouse=True)
def _database_of_the_test(request: pytest.FixtureRequest) -> Iterator[TestConnection | None]:
    """The per-test database isolation of tests that use the app (see the module's doc)."""
    if "app" not in request.fixturenames:
        yield None
        return
    url = request.getfixturevalue("database_url")
    _forget_process_state()
    committed = request.node.get_closest_marker("committed") is not None
    if committed or not url.startswith("postgresql"):
        yield None
        _forget_process_state()
        _empty_tables(url)
        return
    from sqlalchemy import event

    import agency.db

    monkeypatch = pytest.MonkeyPatch()
    connection = TestConnection(agency.db.get_engine(url))
    event.listen(connection, "before_cursor_execute", _check_thread)
    try:
        _bind_to(connection, url, monkeypatch)
        yield connection
    finally:
        monkeypatch.undo()
        _forget_process_state()
        connection.end()


@pytest.fixture
def app(settings: Settings, _database_of_the_test: TestConnection | None) -> Iterator:
    """The app of ``settings`` (built once per process), fresh for this test.

    A test may change it (add a route, set a setting on it): it is then built anew for
    the next test.
    """
    from agency.db import get_engine

    application = _app_for(settings)
    _fresh_for_a_test(application, _database_of_the_test or get_engine(settings.database_url))
    routes = len(application.url_map._rules)
    yield application
    _done_with(application, settings, routes)


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
    """The run's own RQ queue (this xdist worker's) on the real Redis, emptied before and after.

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
    _empty_queue(queue)
    yield queue
    _empty_queue(queue)


def _empty_queue(queue: Any) -> None:
    """The queue and its registries (a retry scheduled by an earlier test, a failed job)."""
    queue.empty()
    for registry in (
        queue.scheduled_job_registry,
        queue.deferred_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.canceled_job_registry,
    ):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    for key in queue.connection.scan_iter(f"{queue.name}:wake:*"):  # agencies' wake marks
        queue.connection.delete(key)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    dispose_engines()
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        demo_database.drop_demo_template(_server_url(), RUN_ID)


# --- changes made by "another process" (committed tests) --------------------------------


@pytest.fixture
def elsewhere(settings: Settings) -> Iterator[Any]:
    """Run SQL on a connection of its own and commit it: a change as another process (a
    worker, the other gunicorn worker) makes it, which no session hook here sees."""
    engine = create_engine(settings.database_url)

    def run(sql: str, **values: Any) -> None:
        with engine.begin() as connection:
            connection.execute(text(sql), values)

    yield run
    engine.dispose()


def soon(read: Any, expected: Any, seconds: float = 2.0) -> Any:
    """``read()`` until it gives ``expected`` or ``seconds`` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return got
