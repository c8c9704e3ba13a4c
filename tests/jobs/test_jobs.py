"""Jobs run after commit (never for a rolled-back row), inline or on a real RQ worker."""

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from agency.access import Scope
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import job
from tests.factories import api_key, bearer, make_agency, make_manager, make_partner


@job("test_explode")
def explode(session, record, *, settings):
    raise ValueError("boom")


def enqueue(app, session, name="ping", arguments=None, scope=None):
    runner = app.extensions["agency"].jobs
    record = runner.enqueue(session, name, arguments or {}, scope=scope)
    return record


def test_a_job_is_not_dispatched_when_the_transaction_rolls_back(app, session, monkeypatch):
    dispatched = []
    runner = app.extensions["agency"].jobs
    monkeypatch.setattr(
        type(runner),
        "dispatch",
        lambda self, job_id, name=None, agency_id=None: dispatched.append(job_id),
    )
    enqueue(app, session)
    session.rollback()
    assert dispatched == []
    assert session.scalar(select(JobRecord.id)) is None


def test_a_job_is_dispatched_once_after_commit(app, session, monkeypatch):
    dispatched = []
    runner = app.extensions["agency"].jobs
    monkeypatch.setattr(
        type(runner),
        "dispatch",
        lambda self, job_id, name=None, agency_id=None: dispatched.append(job_id),
    )
    record = enqueue(app, session)
    assert dispatched == []
    session.commit()
    assert dispatched == [record.id]


def test_a_partner_polls_its_job_and_another_partner_gets_404(app, client, session):
    partner, secret = make_partner(session)
    _, other = make_partner(session)
    record = enqueue(app, session, scope=Scope.of(partner_client_id=partner.id))
    session.commit()
    expected = "finished" if app.extensions["agency"].settings.inline_jobs else "queued"
    response = client.get(f"/jobs/{record.id}", headers=api_key(secret))
    assert response.status_code == 200
    assert response.get_json()["status"] == expected
    assert client.get(f"/jobs/{record.id}", headers=api_key(other)).status_code == 404


def test_a_manager_of_another_agency_cannot_see_the_job(app, client, session):
    agency = make_agency(session)
    record = enqueue(app, session, scope=Scope.of(agency_ids=[agency.id]))
    session.commit()
    own = bearer(session, make_manager(session, agency))
    other = bearer(session, make_manager(session))
    assert client.get(f"/jobs/{record.id}", headers=own).status_code == 200
    assert client.get(f"/jobs/{record.id}", headers=other).status_code == 404


def test_an_inline_job_records_its_result_and_failure(settings, session):
    from dataclasses import replace

    from agency import create_app

    inline_app = create_app(replace(settings, redis_url=None))
    ok = enqueue(inline_app, session, arguments={"message": "hello"})
    bad = enqueue(inline_app, session, name="test_explode")
    session.commit()
    session.expire_all()
    assert session.get(JobRecord, ok.id).status is JobStatus.FINISHED
    assert session.get(JobRecord, ok.id).result == {"message": "hello", "inline": True}
    failed = session.get(JobRecord, bad.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "job_failed"  # a stable code, never the exception's text


@pytest.mark.redis
def test_a_real_rq_worker_runs_the_job_and_records_failures(app, session, rq_queue):
    ok = enqueue(app, session, arguments={"message": "via redis"})
    bad = enqueue(app, session, name="test_explode")
    session.commit()
    assert rq_queue.count == 2
    SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    session.expire_all()
    finished = session.get(JobRecord, ok.id)
    assert finished.status is JobStatus.FINISHED
    assert finished.result == {"message": "via redis", "inline": False}
    failed = session.get(JobRecord, bad.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "job_failed"
    # RQ keeps the failed job for a retry with back-off.
    rq_job = rq_queue.fetch_job(bad.id)
    assert rq_job.retries_left is not None and rq_job.retries_left < 3


def test_background_work_goes_to_its_kinds_later_queue_which_workers_serve_last():
    from agency.bootstrap import LATER_JOBS, QUEUE_KIND_OF
    from agency.jobs.queue import Routes

    routes = Routes(prefix="ag", kind_of=QUEUE_KIND_OF, later=LATER_JOBS)
    assert routes.queue_for("rematch_agency") == "ag-matching-later"
    assert routes.queue_for("match_care_request") == "ag-matching"
    assert routes.queue_for("isf.payment_run") == "ag-payments"
    # One kind: its queue, then its later one; several (``--together``): every kind's own
    # queue before any later one, so background matching never holds up a webhook.
    assert routes.queues_of_kinds(["matching"]) == ["ag-matching", "ag-matching-later"]
    assert routes.queue_names() == [
        "ag-payments",
        "ag-matching",
        "ag-webhooks",
        "ag-payments-later",
        "ag-matching-later",
        "ag-webhooks-later",
    ]
    single = Routes(prefix="ag", single_queue=True, kind_of=QUEUE_KIND_OF, later=LATER_JOBS)
    assert single.queue_for("rematch_agency") == single.queue_for("match_care_request") == "ag"
    assert single.queue_names() == ["ag"]


def test_a_redelivered_finished_job_returns_its_result_without_running_again(settings, session):
    """RQ may deliver a job twice: the second run finds the row finished, returns its
    result and leaves the row (its attempts, its end) as the first run left it."""
    from dataclasses import replace

    from agency import create_app
    from agency.jobs.queue import execute

    inline_app = create_app(replace(settings, redis_url=None))
    runner = inline_app.extensions["agency"].jobs
    ok = enqueue(inline_app, session, arguments={"message": "once"})
    session.commit()
    session.expire_all()
    first = session.get(JobRecord, ok.id)
    before = (first.status, first.attempts, first.started_at, first.ended_at)
    assert before[:2] == (JobStatus.FINISHED, 1)

    again = execute(ok.id, runner.sessions, runner.settings, runner.routes)
    assert again == {"message": "once", "inline": True}
    session.expire_all()
    row = session.get(JobRecord, ok.id)
    assert (row.status, row.attempts, row.started_at, row.ended_at) == before
    assert execute("job_missing", runner.sessions, runner.settings, runner.routes) is None


@pytest.mark.postgres
@pytest.mark.committed  # counts the engine's real statements and commits
def test_a_redelivered_finished_job_costs_one_statement_and_no_commit(settings, session):
    """The delivery of a job another job finished (a match job's batch) or that already ran:
    the start mark and the read of the result are one statement, and nothing is written."""
    from dataclasses import replace

    from sqlalchemy import event

    from agency import create_app
    from agency.db import get_engine
    from agency.jobs.queue import execute

    inline_app = create_app(replace(settings, redis_url=None))
    runner = inline_app.extensions["agency"].jobs
    ok = enqueue(inline_app, session, arguments={"message": "once"})
    session.commit()
    engine = get_engine(settings.database_url)
    statements, commits = [], []
    on_statement = lambda *args: statements.append(args[2])  # noqa: E731
    on_commit = lambda *args: commits.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        again = execute(ok.id, runner.sessions, runner.settings, runner.routes)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    assert again == {"message": "once", "inline": True}
    assert len(statements) == 1 and statements[0].startswith("WITH started AS"), statements
    assert commits == []
