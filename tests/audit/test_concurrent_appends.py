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
