"""The one unit of work: rollback unless committed, nesting, 409 mapping, the outbox."""

from __future__ import annotations

import pathlib
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.db import after_commit
from agency.errors import Conflict
from agency.jobs.models import JobRecord, JobStatus
from agency.unit_of_work import DEPTH, in_unit_of_work, unit_of_work
from tests.factories import make_agency, make_care_request, make_partner, make_seeker

# A second session must see only what was committed: these tests commit for real.
COMMITTED = pytest.mark.committed
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _elsewhere(session: Session) -> Session:
    """A second session on the same database: it sees only what was committed."""
    return Session(bind=session.get_bind())


def _council_names(session: Session) -> set[str]:
    from agency.directory.models import Council

    with _elsewhere(session) as other:
        return set(other.scalars(select(Council.name)))


def _council(name: str):  # type: ignore[no-untyped-def]
    from agency.directory.models import Council
    from agency.ids import new_id

    return Council(id=new_id("cnc"), name=name, slug=name.lower())


@COMMITTED
def test_an_exception_rolls_the_write_back(session):
    with pytest.raises(ValueError), unit_of_work(session) as uow:
        session.add(_council("Thrown"))
        session.flush()
        raise ValueError("boom")
    assert uow.outermost
    assert "Thrown" not in _council_names(session)
    assert DEPTH not in session.info


@COMMITTED
def test_leaving_without_commit_rolls_back_and_commit_keeps(session):
    with unit_of_work(session):
        session.add(_council("Forgotten"))
        session.flush()
    with unit_of_work(session) as uow:
        session.add(_council("Kept"))
        uow.commit()
    names = _council_names(session)
    assert "Forgotten" not in names
    assert "Kept" in names


@COMMITTED
def test_an_inner_unit_does_not_commit_the_outermost_does(session):
    with unit_of_work(session) as outer:
        session.add(_council("Outer"))
        with unit_of_work(session) as inner:
            assert in_unit_of_work(session) and not inner.outermost
            session.add(_council("Inner"))
            inner.commit()  # a flush only: nothing is visible elsewhere yet
        assert not {"Outer", "Inner"} & _council_names(session)
        outer.commit()
    assert {"Outer", "Inner"} <= _council_names(session)
    assert not in_unit_of_work(session)


@COMMITTED
def test_an_inner_failure_rolls_back_the_whole_outer_write(session):
    with pytest.raises(LookupError), unit_of_work(session) as outer:
        session.add(_council("Before"))
        with unit_of_work(session) as inner:
            session.add(_council("During"))
            inner.commit()
            raise LookupError("the inner service refused")
        outer.commit()  # never reached
    assert not {"Before", "During"} & _council_names(session)


@COMMITTED
def test_a_duplicate_row_is_a_version_conflict_or_the_units_own_refusal(session):
    make_agency(session)  # commits a council
    from agency.directory.models import Council

    slug = session.scalars(select(Council.slug)).first()
    with pytest.raises(Conflict) as raised, unit_of_work(session) as uow:
        session.add(_council("Twin"))
        session.flush()
        twin = _council("Twin2")
        twin.slug = slug
        session.add(twin)
        uow.commit()
    assert raised.value.code == "version_conflict"
    assert raised.value.status == 409

    def taken() -> Conflict:
        return Conflict("That slug is taken.", code="slug_taken")

    with pytest.raises(Conflict) as raised, unit_of_work(session, integrity_error=taken) as uow:
        twin = _council("Twin3")
        twin.slug = slug
        session.add(twin)
        uow.commit()
    assert raised.value.code == "slug_taken"
    # A nested unit's own refusal applies too: its commit flushes under its mapping.
    with pytest.raises(Conflict) as raised, unit_of_work(session):
        with unit_of_work(session, integrity_error=taken) as inner:
            twin = _council("Twin4")
            twin.slug = slug
            session.add(twin)
            inner.commit()
    assert raised.value.code == "slug_taken"
    assert "Twin" not in _council_names(session)


@COMMITTED
def test_a_stale_version_is_a_version_conflict(session):
    from agency.seekers.models import CareRequest

    partner, _secret = make_partner(session)
    care_request = make_care_request(session, make_seeker(session, partner.id), None)
    other = _elsewhere(session)
    try:
        theirs = other.get(CareRequest, care_request.id)
        assert theirs is not None
        care_request.notes = "first"
        session.commit()  # the test's own arrangement: someone else wrote first
        with pytest.raises(Conflict) as raised, unit_of_work(other) as uow:
            theirs.notes = "second"
            uow.commit()
        assert raised.value.code == "version_conflict"
        assert raised.value.status == 409
        # An autoflush (here a flush) in the middle of the write is mapped the same way.
        theirs = other.get(CareRequest, care_request.id)
        assert theirs is not None
        care_request.notes = "third"
        session.commit()
        with pytest.raises(Conflict) as raised, unit_of_work(other):
            theirs.notes = "fourth"
            other.flush()
        assert raised.value.code == "version_conflict"
    finally:
        other.close()


def test_after_commit_work_runs_only_after_the_outermost_commit(session):
    ran: list[str] = []
    with unit_of_work(session) as outer:
        with unit_of_work(session) as inner:
            after_commit(session, lambda: ran.append("inner"))
            inner.commit()
        assert ran == []
        outer.commit()
    assert ran == ["inner"]
    with pytest.raises(RuntimeError), unit_of_work(session) as uow:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError
    with unit_of_work(session) as uow:
        uow.commit()
    assert ran == ["inner"]


@COMMITTED
def test_a_job_is_dispatched_after_the_outermost_commit_only(app, session, monkeypatch):
    runner = app.extensions["agency"].jobs
    dispatched: list[str] = []
    monkeypatch.setattr(
        type(runner),
        "dispatch",
        lambda self, job_id, name=None, agency_id=None: dispatched.append(job_id),
    )
    with unit_of_work(session) as outer:
        with unit_of_work(session) as inner:
            record = runner.enqueue(session, "ping", {})
            inner.commit()
        assert dispatched == []
        outer.commit()
    assert dispatched == [record.id]
    with pytest.raises(Conflict), unit_of_work(session):
        runner.enqueue(session, "ping", {})
        raise Conflict("refused")
    assert dispatched == [record.id]
    with _elsewhere(session) as other:
        statuses = list(other.scalars(select(JobRecord.status)))
    assert statuses == [JobStatus.QUEUED]


@COMMITTED
def test_a_chunked_job_commits_each_chunk(session):
    with pytest.raises(RuntimeError), unit_of_work(session) as uow:
        session.add(_council("Chunk1"))
        uow.commit()
        session.add(_council("Chunk2"))
        uow.commit()
        session.add(_council("Chunk3"))
        raise RuntimeError("killed mid-run")
    names = _council_names(session)
    assert {"Chunk1", "Chunk2"} <= names
    assert "Chunk3" not in names


def test_a_unit_that_must_commit_refuses_to_run_nested(session):
    """Money code (a payout recorded before the gateway call) never lets a commit become a flush."""
    with unit_of_work(session):
        with pytest.raises(RuntimeError), unit_of_work(session, outermost=True):
            pass  # pragma: no cover - refused on entry
    with unit_of_work(session, outermost=True) as uow:
        assert uow.outermost


COMMIT = re.compile(r"\.commit\(\)")


def test_only_the_unit_of_work_commits():
    """Every write ends through ``unit_of_work``: no ``session.commit()`` elsewhere."""
    offenders = []
    for path in sorted((ROOT / "agency").rglob("*.py")):
        if path.name == "unit_of_work.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if COMMIT.search(code.replace("uow.commit()", "")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
