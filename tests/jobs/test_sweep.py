"""The outbox sweep: rows Redis never got are sent; jobs RQ gave up on are recorded failed."""

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import update

from agency import create_app
from agency.jobs.models import JobRecord, JobStatus
from agency.worker import sweep_jobs


def _age(session, job_id, seconds=120):
    session.execute(
        update(JobRecord)
        .where(JobRecord.id == job_id)
        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds))
    )
    session.commit()


@pytest.mark.redis
def test_a_job_written_while_redis_was_down_is_dispatched_by_the_sweep(
    app, session, settings, rq_queue
):
    down = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    down_session = down.extensions["agency"].sessionmaker()
    record = down.extensions["agency"].jobs.enqueue(down_session, "ping", {})
    down_session.commit()  # the row commits; sending it to Redis fails (logged)
    down_session.close()
    assert rq_queue.count == 0
    _age(session, record.id)
    result = sweep_jobs(app.extensions["agency"].container)
    assert result == {"dispatched": 1, "failed": 0}
    assert rq_queue.get_job_ids() == [record.id]
    assert sweep_jobs(app.extensions["agency"].container)["dispatched"] == 0  # once


@pytest.mark.redis
def test_a_recent_queued_job_is_left_alone(app, session, rq_queue):
    record = app.extensions["agency"].jobs.enqueue(session, "ping", {})
    session.commit()
    rq_queue.empty()  # as if lost, but only just written: its dispatch may be in flight
    assert sweep_jobs(app.extensions["agency"].container)["dispatched"] == 0
    assert session.get(JobRecord, record.id).status is JobStatus.QUEUED


@pytest.mark.redis
def test_a_started_job_that_rq_gave_up_on_is_recorded_failed_with_a_stable_code(
    app, session, rq_queue
):
    from rq.job import JobStatus as RqStatus

    record = app.extensions["agency"].jobs.enqueue(session, "ping", {})
    session.commit()
    session.execute(
        update(JobRecord).where(JobRecord.id == record.id).values(status=JobStatus.STARTED)
    )
    session.commit()
    _age(session, record.id)
    rq_queue.fetch_job(record.id).set_status(
        RqStatus.FAILED
    )  # e.g. its horse killed, no retry left
    assert sweep_jobs(app.extensions["agency"].container)["failed"] == 1
    session.expire_all()
    job = session.get(JobRecord, record.id)
    assert job.status is JobStatus.FAILED and job.error == "job_failed"
