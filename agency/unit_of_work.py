"""The one way a write ends: ``with unit_of_work(session) as uow: ... uow.commit()``.

A service opens a unit of work around its write and calls ``uow.commit()`` when the
write is whole. The unit of work

- rolls back on exit when it was not committed (an exception, or a return before
  ``uow.commit()``), so half a write never reaches the database;
- turns a lost race into a 409: a stale ``version`` (``StaleDataError``) is
  ``version_conflict``; a duplicate or dangling row (``IntegrityError``) is
  ``version_conflict`` too, unless the service names its own refusal with
  ``integrity_error=`` (``email_taken``, ``slug_taken``...). That holds for an error
  at commit and for one raised by an autoflush in the middle of the write;
- nests: a service called inside another's unit of work does not commit: its
  ``uow.commit()`` only flushes (so its own integrity refusal still applies) and the
  outermost unit of work commits the whole. The depth lives in ``session.info``, so
  no ``commit=`` flags are passed around. Money code whose commit must happen before a
  gateway call says ``outermost=True`` and refuses to run nested;
- keeps the durable outbox: jobs recorded with ``JobRunner.enqueue`` are rows in this
  transaction and are dispatched only once the outermost commit has succeeded
  (``agency.db.after_commit``); a rollback drops them.

A long job that works in chunks (a payment run, bulk approval, seeding) calls
``uow.commit()`` after each chunk: each call at the outermost level commits what is
there so far. :func:`own_transaction` is the short transaction of its own that a
Core write beside the caller's session needs (a counter, a cache row).

No other module calls ``Session.commit()`` (``tests/test_unit_of_work.py`` checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agency.errors import Conflict, DomainError

DEPTH = "unit_of_work_depth"  # Session.info key: how many units of work are open on it
AFTER_COMMIT = "after_commit"  # Session.info key of agency.db.after_commit's callbacks

ConflictFactory = Callable[[], DomainError]


def version_conflict() -> Conflict:
    """The 409 a lost race gets: the client re-reads and decides again."""
    return Conflict(
        "Someone changed this at the same time; read it again and retry.",
        code="version_conflict",
    )


class UnitOfWork:
    """One open unit of work on a session (made by :func:`unit_of_work`)."""

    def __init__(
        self,
        session: Session,
        *,
        outermost: bool,
        stale_data: ConflictFactory,
        integrity_error: ConflictFactory,
    ) -> None:
        self.session = session
        self.outermost = outermost
        self.committed = False
        self._stale_data = stale_data
        self._integrity_error = integrity_error

    def commit(self) -> None:
        """Commit (outermost) or flush (nested); a lost race becomes the 409 of this unit."""
        with self._mapped():
            if self.outermost:
                self.session.commit()
            else:
                self.session.flush()
        self.committed = True

    def flush(self) -> None:
        """Flush now, with this unit's conflict mapping (e.g. to catch a duplicate early)."""
        with self._mapped():
            self.session.flush()

    def rollback(self) -> None:
        """Give up the whole transaction (the session's, whoever opened it)."""
        _roll_back(self.session)
        self.committed = False

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        try:
            yield
        except StaleDataError:
            _roll_back(self.session)
            raise self._stale_data() from None
        except IntegrityError:
            _roll_back(self.session)
            raise self._integrity_error() from None

    def _pending(self) -> bool:
        session = self.session
        return bool(session.new or session.dirty or session.deleted)


@contextmanager
def unit_of_work(
    session: Session,
    *,
    stale_data: ConflictFactory = version_conflict,
    integrity_error: ConflictFactory = version_conflict,
    outermost: bool = False,
) -> Iterator[UnitOfWork]:
    """Open a unit of work on ``session`` (see the module docstring).

    ``outermost=True`` is for writes whose commits must reach the database before what
    follows them (a payout recorded before the gateway call): opened inside another unit
    of work, it refuses with ``RuntimeError`` rather than let its commits become flushes.
    """
    depth = session.info.get(DEPTH, 0)
    if outermost and depth:
        raise RuntimeError("this unit of work commits on its own: call it outside any other")
    uow = UnitOfWork(
        session,
        outermost=depth == 0,
        stale_data=stale_data,
        integrity_error=integrity_error,
    )
    session.info[DEPTH] = depth + 1
    try:
        with uow._mapped():
            yield uow
    except BaseException:
        if uow.outermost:
            _roll_back(session)
        raise
    else:
        if uow.outermost and (not uow.committed or uow._pending()):
            _roll_back(session)
    finally:
        if depth:
            session.info[DEPTH] = depth
        else:
            session.info.pop(DEPTH, None)


def _roll_back(session: Session) -> None:
    session.rollback()
    # Work queued for after the commit goes too, even when no transaction had begun yet
    # (the session's after_soft_rollback hook only sees a transaction that existed).
    session.info.pop(AFTER_COMMIT, None)


def in_unit_of_work(session: Session) -> bool:
    """True while a unit of work is open on ``session`` (an outer one will commit)."""
    return bool(session.info.get(DEPTH))


@contextmanager
def own_transaction(bind: Engine | Connection | Any) -> Iterator[Connection]:
    """A short Core transaction of its own beside any session's: committed unless it raised.

    ``bind`` is what ``session.get_bind()`` returns; its ``connect()`` gives the connection.
    """
    with bind.connect() as connection:
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
