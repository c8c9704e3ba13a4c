"""Engine, one session per request or job, the declarative Base, shared column types.

Sessions are plain SQLAlchemy 2 sessions. A service writes inside a unit of work
(``agency.unit_of_work``), the one place that commits; whatever a request or job
leaves uncommitted is rolled back when it ends.
Callbacks registered with :func:`after_commit` run only once the transaction has
committed (and are dropped on rollback), so a job is never enqueued for a row
that does not exist.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    DateTime,
    Enum,
    MetaData,
    String,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
    true,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    """A portable enum column that stores the member's value ('queued'), not its name."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class IdMixin:
    """A prefixed opaque string primary key (see agency.ids)."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


_engines: dict[tuple[str, int | None, bool], Engine] = {}


def get_engine(
    url: str, statement_timeout_ms: int | None = None, autocommit: bool = False
) -> Engine:
    """One engine per URL (and web bound) per process (gunicorn and RQ workers build their own).

    With ``statement_timeout_ms`` (the web's engine, PostgreSQL only) every connection is
    opened with that ``statement_timeout`` and JIT off as startup options: the bound holds
    for each statement without a ``SET`` round trip per request. Jobs use the plain engine.
    ``autocommit`` (PostgreSQL only): a pool of its own whose connections never open a
    transaction, for single-statement reads (agency.web.autocommit_session and
    autocommit_connection).
    """
    if url.startswith("sqlite"):
        statement_timeout_ms = None  # SQLite has no statement timeout: one engine
        autocommit = False
    key = (url, statement_timeout_ms, autocommit)
    engine = _engines.get(key)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            connect_args = {}
            if statement_timeout_ms:
                # A web request's queries are short index probes: PostgreSQL's JIT, which
                # kicks in on estimated cost, spends 100-200 ms compiling report queries.
                connect_args["options"] = (
                    f"-c statement_timeout={int(statement_timeout_ms)} -c jit=off"
                )
            engine = create_engine(
                url,
                **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
                # The web's engine pings only connections idle for a while (below): a ping
                # on every checkout is a round trip per request.
                pool_pre_ping=not statement_timeout_ms,
                pool_size=5,
                max_overflow=10,
                hide_parameters=True,
                connect_args=connect_args,
            )
            if statement_timeout_ms:
                _ping_when_idle(engine)
        _engines[key] = engine
    return engine


PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle past PING_AFTER_IDLE_S.

    A connection that fails the ping is replaced (the pool retries on DisconnectionError).
    One used moments ago is trusted: if the server went away since, that request fails
    and SQLAlchemy invalidates the whole pool, so the next ones reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the idle connection is gone") from error


def bounded_sessionmaker(sessions: sessionmaker[Session], timeout_ms: int) -> sessionmaker[Session]:
    """``sessions``' twin for web requests: on PostgreSQL, bound to the bounded engine."""
    kw = dict(sessions.kw)
    engine = kw.get("bind")
    if engine is None or engine.dialect.name != "postgresql" or not timeout_ms:
        # Elsewhere the after_begin hook below applies the bound (a no-op off PostgreSQL).
        kw["info"] = {**kw.get("info", {}), STATEMENT_TIMEOUT: timeout_ms}
    else:
        kw["bind"] = get_engine(engine.url.render_as_string(hide_password=False), timeout_ms)
    return sessionmaker(class_=sessions.class_, **kw)


def _forget_pools_after_fork() -> None:
    # A forked child (RQ's work horse, gunicorn workers) must not reuse the parent's
    # pooled connections: SQLAlchemy's documented remedy is dispose(close=False).
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_after_fork)


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session for a job or a command: rolled back unless the code committed."""
    session = session_factory(url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction commits."""
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


def insert_now(session: Session, *objects: Any) -> None:
    """INSERT new objects' rows now, as Core statements in the session's transaction.

    For hot write paths: the ORM's flush of one new row (unit-of-work sorting, state
    bookkeeping, its events) costs more CPU than the INSERT itself. Each object becomes
    persistent in ``session`` as if it had been flushed: its columns' Python defaults are
    applied to it first (every column is then loaded; nothing is read back), later
    changes to it flush as UPDATEs, and a rollback of the transaction removes the rows.
    Several objects of one table go in one multi-row INSERT; of several tables, in one
    round trip on PostgreSQL (the first ones' INSERTs as data-modifying CTEs of the
    last's), in order, elsewhere one statement each. No flush hook sees them (no
    ``before_flush``/``after_flush`` listener watches the models written this way: care
    requests, job rows and suggestions). Columns with server defaults are
    refused: their value would have to be read back.
    """
    rows = [_new_row(obj) for obj in objects]
    connection = session.connection()
    if len(rows) > 1 and len({table for table, _ in rows}) == 1:
        # Rows of one table: one executemany, which SQLAlchemy sends as one multi-row INSERT.
        table = rows[0][0]
        statement = _INSERTS.get(table)
        if statement is None:
            statement = _INSERTS[table] = insert(table)
        connection.execute(statement, [values for _, values in rows])
    elif len(rows) > 1 and connection.dialect.name == "postgresql":
        tables = tuple(table for table, _ in rows)
        statement = _INSERTS.get(tables)
        if statement is None:
            statement = _INSERTS[tables] = _inserts_in_one(tables)
        parameters = {
            f"r{i}_{key}": value
            for i, (_, values) in enumerate(rows)
            for key, value in values.items()
        }
        connection.execute(statement, parameters)
    else:
        for table, values in rows:
            statement = _INSERTS.get(table)
            if statement is None:
                statement = _INSERTS[table] = insert(table)
            connection.execute(statement, values)
    for obj in objects:
        make_transient_to_detached(obj)
        session.add(obj)


def _new_row(obj: Any) -> tuple[Any, dict[str, Any]]:
    """(table, column values) of a new object, its columns' Python defaults applied to it."""
    mapper = type(obj).__mapper__
    state = obj.__dict__
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key not in state:
            if column.server_default is not None:
                raise ValueError(f"{column} has a server default: insert_now cannot read it")
            default = column.default
            value = None
            if default is not None:
                value = default.arg(None) if default.is_callable else default.arg
            setattr(obj, prop.key, value)
        values[column.key] = state[prop.key]
    return mapper.local_table, values


def _inserts_in_one(tables: tuple[Any, ...]) -> Any:
    """WITH r0 AS (INSERT INTO first ...), ... INSERT INTO last ...: one statement (PostgreSQL)."""
    inserts = [
        insert(table).values(
            {column.key: bindparam(f"r{i}_{column.key}", type_=column.type) for column in table.c}
        )
        for i, table in enumerate(tables)
    ]
    statement = inserts[-1]
    for i, earlier in enumerate(inserts[:-1]):
        statement = statement.add_cte(earlier.cte(f"r{i}"))
    return statement


_INSERTS: dict[Any, Any] = {}


def read_beside(base: Any, read: Any) -> Any:
    """One statement: ``base``'s row with ``read``'s columns beside it (NULLs when ``read``
    finds nothing). Both are statements built once (e.g. a credential's lookup and a read
    that rides along with it); the combined statement is built once per pair too.
    """
    key = (id(base), id(read))
    known = _BESIDE.get(key)
    if known is None or known[0] is not base or known[1] is not read:
        first, extra = base.subquery(), read.subquery()
        combined = select(first, extra).select_from(first.outerjoin(extra, true()))
        known = _BESIDE[key] = (base, read, combined)
    return known[2]


_BESIDE: dict[tuple[int, int], tuple[Any, Any, Any]] = {}

STATEMENT_TIMEOUT = "statement_timeout_ms"  # Session.info key: the bound, in milliseconds


@event.listens_for(Session, "after_begin")
def _bound_statements(session: Session, _transaction: Any, connection: Any) -> None:
    """Sessions whose info names a bound (the web's) cap every statement on PostgreSQL.

    SET LOCAL lasts for the transaction only, so a pooled connection carries nothing over
    to a worker's job (jobs and reports run as jobs take as long as they need).
    """
    bound = session.info.get(STATEMENT_TIMEOUT)
    if bound and connection.dialect.name == "postgresql":
        # A web request's queries are short index probes: PostgreSQL's JIT, which kicks in
        # on estimated cost, spends 100-200 ms compiling each report query for nothing.
        # Both in one round trip (without parameters psycopg sends a simple query, which
        # may hold several statements).
        connection.exec_driver_sql(
            f"SET LOCAL statement_timeout = {int(bound)}; SET LOCAL jit = off"
        )


_RELAXED = "commit_relaxed"  # Session.info key: the setting this transaction relaxed
# The setting in force, then off for this transaction only (set_config(..., true) is SET
# LOCAL); the CTE is read first, so the value returned is the one before.
_RELAX = text(
    "WITH was AS MATERIALIZED (SELECT current_setting('synchronous_commit') AS value)"
    " SELECT value, set_config('synchronous_commit', 'off', true) FROM was"
)
_RESTORE = text("SELECT set_config('synchronous_commit', :value, true)")


def commit_without_waiting_for_disk(session: Session) -> None:
    """Let this transaction's COMMIT return before its WAL is flushed (PostgreSQL's
    ``synchronous_commit`` off, for this transaction only; nothing elsewhere).

    Only for derived data a job makes again, such as a match job's ranking: a PostgreSQL
    crash (not an application's) within ~0.6 s of the commit may lose the transaction, as
    if it had rolled back; WAL order keeps every earlier commit, and a later synchronous
    commit flushes this one too. Never for money, consent or anything a caller was told.
    An audit entry linked in the same transaction restores the setting
    (``agency.audit.service``): the chain's signed checkpoints must never name an entry a
    database crash could lose.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.info[_RELAXED] = session.execute(_RELAX).one()[0]


def durable_commit_again(session: Session, connection: Any) -> None:
    """Undo :func:`commit_without_waiting_for_disk` in this transaction: the setting as it was."""
    value = session.info.pop(_RELAXED, None)
    if value is not None:
        connection.execute(_RESTORE, {"value": value})


@event.listens_for(Session, "after_commit")
def _relaxed_ends_at_commit(session: Session) -> None:
    session.info.pop(_RELAXED, None)


def is_statement_timeout(error: BaseException) -> bool:
    """True for PostgreSQL cancelling a statement that ran past statement_timeout."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "57014"


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, _previous_transaction: Any) -> None:
    session.info.pop("after_commit", None)
    session.info.pop(_RELAXED, None)
