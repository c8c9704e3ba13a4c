"""Match jobs go to RQ as one wake of their agency at a time (agency.jobs.queue.JobRunner.dispatch):
a request's commit sends one only when none waits; the wake's run (agency.worker.run_wake)
clears the mark, ranks the oldest queued job with those behind it, and wakes again for
what is left. Real Redis and RQ's SimpleWorker throughout.
"""

import datetime as dt

import pytest
from rq import SimpleWorker
from sqlalchemy import update

from agency.introductions import match_batch
from agency.jobs.models import JobRecord, JobStatus
from agency.seekers.match_queue import MATCH_JOB
from agency.worker import sweep_jobs
from tests.factories import make_agency, make_partner, make_provider, make_seeker
from tests.jobs.test_sweep import _age
from tests.matchmaking.test_match_batches import (
    new_requests,
    queue_matches,
    ranking_fails_for,
    rows,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def world(session):
    agency = make_agency(session)
    partner, _ = make_partner(session)
    make_provider(session, agency)
    return agency, make_seeker(session, partner.id)


def _wake_key(app, agency_id):
    return app.extensions["agency"].jobs.routes.wake_key(MATCH_JOB, agency_id)


def _work(rq_queue):
    SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)


def test_an_agency_has_one_wake_waiting_however_many_requests_come(app, session, world, rq_queue):
    agency, seeker = world
    other = make_agency(session)
    make_provider(session, other)
    queue_matches(app, session, new_requests(session, seeker, agency, 3))
    queue_matches(app, session, new_requests(session, seeker, agency, 2))
    queue_matches(app, session, new_requests(session, seeker, other, 1))
    wakes = [rq_queue.fetch_job(job_id) for job_id in rq_queue.get_job_ids()]
    assert sorted(job.args for job in wakes) == sorted(
        [(MATCH_JOB, agency.id), (MATCH_JOB, other.id)]
    )
    ttl = rq_queue.connection.ttl(_wake_key(app, agency.id))
    assert 0 < ttl <= 60  # a lost wake stops holding the agency's jobs back within a minute


def test_a_wake_ranks_a_batch_then_wakes_again_for_the_rest(
    app, session, world, rq_queue, monkeypatch
):
    monkeypatch.setattr(match_batch, "MATCH_BATCH", 2)  # a leader and two claimed a run
    agency, seeker = world
    job_ids = queue_matches(app, session, new_requests(session, seeker, agency, 5))
    assert rq_queue.count == 1
    _work(rq_queue)
    jobs = rows(session, job_ids)
    assert [j.status for j in jobs] == [JobStatus.FINISHED] * 5
    leaders = [j.result.get("ranked_with", j.id) for j in jobs]
    assert leaders == [job_ids[0]] * 3 + [job_ids[3]] * 2  # two wakes, oldest first
    assert rq_queue.connection.exists(_wake_key(app, agency.id)) == 0
    assert len(rq_queue.finished_job_registry.get_job_ids()) == 2
    assert rq_queue.failed_job_registry.count == 0


def test_a_request_sent_after_a_wake_started_gets_a_wake_of_its_own(app, session, world, rq_queue):
    """The run clears the mark before it reads the queued jobs: a job committed after
    that read finds no mark and sends a wake, so it is never left waiting."""
    agency, seeker = world
    [first] = queue_matches(app, session, new_requests(session, seeker, agency, 1))
    runner = app.extensions["agency"].jobs
    runner.woken(MATCH_JOB, agency.id)  # a wake's run has begun
    assert runner.oldest_queued(MATCH_JOB, agency.id) == first
    [second] = queue_matches(app, session, new_requests(session, seeker, agency, 1))
    assert rq_queue.count == 2  # the first wake (its run is only pretended) and the second's
    _work(rq_queue)
    assert [j.status for j in rows(session, [first, second])] == [JobStatus.FINISHED] * 2


def test_a_job_that_fails_in_a_wake_goes_alone_and_the_rest_are_ranked(
    app, session, world, rq_queue, monkeypatch
):
    agency, seeker = world
    requests = new_requests(session, seeker, agency, 3)
    ranking_fails_for(monkeypatch, requests[0].id, RuntimeError("cannot rank this one"))
    failing, *others = queue_matches(app, session, requests)
    _work(rq_queue)
    jobs = rows(session, [failing, *others])
    assert [j.status for j in jobs[1:]] == [JobStatus.FINISHED] * 2
    assert jobs[0].status is JobStatus.FAILED and jobs[0].error == "matching_failed"
    # Sent on its own: RQ retries it later like any failed job.
    assert rq_queue.scheduled_job_registry.get_job_ids() == [failing]


def test_the_sweep_sends_a_wake_for_a_stranded_queued_job_and_nothing_while_one_waits(
    app, session, world, rq_queue
):
    agency, seeker = world
    [job_id] = queue_matches(app, session, new_requests(session, seeker, agency, 1))
    container = app.extensions["agency"].container
    _age(session, job_id)
    assert sweep_jobs(container)["dispatched"] == 1  # a wake waits: nothing more is sent
    assert rq_queue.count == 1
    rq_queue.empty()  # the wake lost (Redis flushed), its mark still set: nothing yet
    sweep_jobs(container)
    assert rq_queue.count == 0
    rq_queue.connection.delete(_wake_key(app, agency.id))  # the mark expires
    sweep_jobs(container)
    [wake] = rq_queue.get_job_ids()
    assert rq_queue.fetch_job(wake).args == (MATCH_JOB, agency.id)


def test_the_sweep_sends_a_started_job_whose_wake_died_on_its_own(app, session, world, rq_queue):
    agency, seeker = world
    [job_id] = queue_matches(app, session, new_requests(session, seeker, agency, 1))
    rq_queue.empty()
    just_now = dt.datetime.now(dt.UTC)
    session.execute(
        update(JobRecord)
        .where(JobRecord.id == job_id)
        .values(status=JobStatus.STARTED, started_at=just_now)
    )
    session.commit()
    _age(session, job_id)  # created long ago, started moments ago: a wake's run may have it
    assert sweep_jobs(app.extensions["agency"].container)["dispatched"] == 0
    session.execute(
        update(JobRecord)
        .where(JobRecord.id == job_id)
        .values(started_at=just_now - dt.timedelta(minutes=2))
    )
    session.commit()
    assert sweep_jobs(app.extensions["agency"].container)["dispatched"] == 1
    assert rq_queue.get_job_ids() == [job_id]  # a wake runs only queued jobs
    _work(rq_queue)
    assert rows(session, [job_id])[0].status is JobStatus.FINISHED


def test_a_wake_handed_back_after_its_process_died_takes_up_the_job_it_had_started(
    app, session, world, rq_queue
):
    """The run notes the job it takes on the wake; when the process dies mid-run the wake
    is handed back to RQ (agency.worker._hand_back_work_of) and its next run starts
    that job again, though it is no longer queued."""
    agency, seeker = world
    [job_id] = queue_matches(app, session, new_requests(session, seeker, agency, 1))
    [wake_id] = rq_queue.get_job_ids()
    wake = rq_queue.fetch_job(wake_id)
    wake.meta["running"] = job_id  # as the run that died left it
    wake.save_meta()
    session.execute(
        update(JobRecord).where(JobRecord.id == job_id).values(status=JobStatus.STARTED)
    )
    session.commit()
    _work(rq_queue)
    [job] = rows(session, [job_id])
    assert job.status is JobStatus.FINISHED and job.attempts == 1
    assert rq_queue.fetch_job(wake_id).meta["running"] == job_id


def test_requeue_jobs_sends_an_agencys_match_jobs_as_one_wake_and_other_jobs_alone(
    app, session, settings, world, rq_queue
):
    """``flask --app wsgi requeue-jobs`` after Redis was unreachable for a while."""
    from dataclasses import replace

    from agency import create_app

    agency, seeker = world
    down = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    queue_matches(down, session, new_requests(session, seeker, agency, 2))  # not sent: logged
    ping = down.extensions["agency"].jobs.enqueue(session, "ping", {})
    session.commit()
    assert rq_queue.count == 0
    result = app.test_cli_runner().invoke(args=["requeue-jobs"])
    assert "requeued 3 jobs" in result.output
    ids = rq_queue.get_job_ids()
    assert len(ids) == 2 and ping.id in ids
    [wake] = [job_id for job_id in ids if job_id != ping.id]
    assert rq_queue.fetch_job(wake).args == (MATCH_JOB, agency.id)
