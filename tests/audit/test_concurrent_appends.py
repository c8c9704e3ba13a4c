"""Writers appending to the audit chain at once still make one linear chain.

Real transactions on PostgreSQL: each thread has its own session; the advisory lock and
the read of the chain's head that follows it (one round trip) must see the commit of
whoever held the lock before, or two entries would claim the same sequence.
"""

import threading

import pytest
from sqlalchemy import func, select

from agency.audit.models import AuditEntry
from agency.audit.service import record, verify_chain
from agency.directory.models import Council
from agency.unit_of_work import unit_of_work


class _Changed:
    id = "obj_concurrent"
    agency_id = None
    council_id = None


@pytest.mark.postgres
@pytest.mark.committed  # threads commit at once: real transactions
def test_concurrent_appends_make_one_linear_chain(app, session):
    writers, transactions = 4, 25
    sessionmaker = app.extensions["agency"].sessionmaker
    barrier = threading.Barrier(writers)
    errors = []

    def append(writer):
        own = sessionmaker()
        try:
            barrier.wait()
            for n in range(transactions):
                with unit_of_work(own) as uow:
                    for k in range(1 + n % 3):  # one to three entries per transaction
                        record(own, None, "test.appended", _Changed(), None, {"w": writer, "k": k})
                    uow.commit()
        except Exception as error:  # pragma: no cover - what the test is for
            errors.append(repr(error))
        finally:
            own.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    expected = writers * sum(1 + n % 3 for n in range(transactions))
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == expected
    report = verify_chain(session)
    assert report.ok, report
    assert report.head_sequence == expected


@pytest.mark.postgres
@pytest.mark.committed  # two real transactions, each waiting on the other's locks
def test_a_change_flushed_at_commit_takes_its_row_lock_before_the_chain_lock(app, session):
    """The chain's lock is taken after every row lock the transaction needs, ORM changes
    still unflushed at commit included: otherwise the committing transaction holds the chain
    lock while it waits for a row another transaction has locked, and that one waits for the
    chain lock (PostgreSQL kills one of them as a deadlock)."""
    from tests.factories import make_council

    council_id = make_council(session).id
    session.commit()
    sessionmaker = app.extensions["agency"].sessionmaker
    first, second = sessionmaker(), sessionmaker()
    errors: list[str] = []
    try:
        with unit_of_work(first) as uow_first:
            # The first writer changes the council and flushes: it holds the row's lock.
            first.get(Council, council_id).name = "Renamed first"
            first.flush()
            record(first, None, "test.renamed", _Changed(), None, {"by": "first"})

            def second_writer():
                try:
                    with unit_of_work(second) as uow_second:
                        # The same row, changed on the object only: flushed by the commit.
                        second.get(Council, council_id).name = "Renamed second"
                        record(second, None, "test.renamed", _Changed(), None, {"by": "second"})
                        uow_second.commit()  # waits for the first's row lock
                except Exception as error:  # pragma: no cover - what the test is for
                    errors.append(repr(error))

            thread = threading.Thread(target=second_writer)
            thread.start()
            thread.join(timeout=1.5)  # the second is now waiting at its commit
            uow_first.commit()
        thread.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert errors == []
    session.expire_all()
    assert session.get(Council, council_id).name == "Renamed second"
    assert verify_chain(session).ok


@pytest.mark.postgres
@pytest.mark.committed  # reads the setting at the real commit
@pytest.mark.parametrize("with_entry", [False, True])
def test_an_audit_entry_makes_a_relaxed_transaction_wait_for_the_disk_again(
    session, settings, with_entry
):
    """agency.db.commit_without_waiting_for_disk is for derived data only: a transaction
    that also links an audit entry commits durably (a signed checkpoint must never name
    an entry a database crash could lose)."""
    from sqlalchemy import event

    from agency.db import commit_without_waiting_for_disk, get_engine

    engine, seen = get_engine(settings.database_url), []

    def at_commit(connection):  # type: ignore[no-untyped-def]  # the COMMIT itself
        seen.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    event.listen(engine, "commit", at_commit)
    try:
        # As on a database that waits for the disk (the tests' databases do not: conftest).
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = on")
        commit_without_waiting_for_disk(session)
        if with_entry:
            record(session, None, "test.appended", _Changed(), None, {"k": 1})
        session.commit()
    finally:
        event.remove(engine, "commit", at_commit)
    assert seen == (["on"] if with_entry else ["off"])
