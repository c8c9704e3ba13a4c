"""What docker-compose runs, run for real: gunicorn serving wsgi:app, and `rq worker` on Redis."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from agency.jobs.models import JobRecord, JobStatus

BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(settings):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "RQ_QUEUE": settings.queue_name,
        "LOG_LEVEL": "WARNING",
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


@pytest.mark.committed  # another process reads what the test wrote
def test_gunicorn_serves_the_app(app, settings):
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError as error:
                if time.monotonic() > deadline or server.poll() is not None:
                    detail = (
                        server.stderr.read().decode() if server.poll() is not None else "timeout"
                    )
                    raise AssertionError(detail) from error
                time.sleep(0.2)
        if settings.redis_url:  # no worker listens on this run's queues: not ready
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5)
            assert error.value.code == 503
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/me", timeout=5)
        assert error.value.code == 401
        assert error.value.headers["Content-Type"] == "application/json"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_the_rq_worker_command_runs_a_job_from_the_api(app, session, settings, rq_queue):
    record = app.extensions["agency"].jobs.enqueue(session, "ping", {"message": "from a worker"})
    session.commit()
    result = subprocess.run(
        [BIN / "rq", "worker", "--burst", "--url", settings.redis_url, settings.queue_name],
        env=_env(settings),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    session.expire_all()
    job = session.scalar(select(JobRecord).where(JobRecord.id == record.id))
    assert job.status is JobStatus.FINISHED, (result.stdout + result.stderr).decode()[-3000:]
    assert job.result == {"message": "from a worker", "inline": False}


# --- the worker as the Makefile starts it, in a fresh shell, on the three queues ---------


def _split_app(settings, prefix, **overrides):
    from dataclasses import replace

    from agency import create_app

    return create_app(replace(settings, single_queue=False, queue_name=prefix, **overrides))


def _job(session, job_id):
    session.expire_all()
    job = session.get(JobRecord, job_id)
    session.rollback()  # hold no transaction open between polls (teardown TRUNCATEs)
    return job


def _wait_finished(session, job_id, timeout):
    from tests.processes import wait_for

    return wait_for(
        lambda: _job(session, job_id).status in (JobStatus.FINISHED, JobStatus.FAILED),
        timeout,
        what=f"job {job_id}",
    )


@pytest.fixture
def makefile_worker(app, settings, tmp_path):
    """`make worker` in a fresh shell, on queues of this test's own (a unique RQ_QUEUE)."""
    import uuid

    from tests.processes import fresh_env, make_command, start, stop

    if not settings.redis_url:
        pytest.skip("needs Redis: set REDIS_URL")
    prefix = f"agency-proc-{uuid.uuid4().hex[:8]}"
    env = fresh_env(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        RQ_QUEUE=prefix,
        WEBHOOK_ALLOW_PRIVATE="1",
        LOG_LEVEL="INFO",
    )
    log = tmp_path / "worker.log"
    worker = start(make_command("worker"), env, log)
    yield prefix, worker, log
    stop(worker)


def _closing(split_app, request):
    session = split_app.extensions["agency"].sessionmaker()
    request.addfinalizer(session.close)
    return session


def _wait_listening(app, log, worker):
    from tests.processes import wait_for

    routes = app.extensions["agency"].jobs.routes
    from rq import Queue, Worker

    redis = app.extensions["agency"].container.redis()

    def listening():
        assert worker.poll() is None, log.read_text()[-3000:]
        return all(Worker.count(queue=Queue(q, connection=redis)) for q in routes.queue_names())

    wait_for(listening, 60, what="a worker on each queue")


def _match_world(session):
    from tests.factories import (
        make_agency,
        make_care_request,
        make_partner,
        make_provider,
        make_seeker,
    )

    agency = make_agency(session)
    partner, _ = make_partner(session)
    make_provider(session, agency)
    care_request = make_care_request(session, make_seeker(session, partner.id), agency)
    return agency, partner, care_request


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_the_makefile_worker_runs_a_match_job_to_finished_and_logs_json(
    app, settings, makefile_worker, request
):
    from agency.introductions.match_jobs import enqueue_match

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix)
    session = _closing(split, request)
    _, _, care_request = _match_world(session)
    record = enqueue_match(session, care_request)
    session.commit()
    assert split.extensions["agency"].jobs.routes.queue_for(record.name) == f"{prefix}-matching"
    _wait_listening(split, log, worker)
    _wait_finished(session, record.id, 60)
    job = _job(session, record.id)
    assert job.status is JobStatus.FINISHED, log.read_text()[-3000:]
    assert job.result["result_path"] == f"/care-requests/{care_request.id}/suggestions"
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(json.loads(line).get("job_id") == record.id for line in lines)


def _ping_on(split, session, kind, delay_seconds):
    """A slow ``ping`` job on the ``kind`` queue (it is routed to matching by default)."""
    from dataclasses import replace

    jobs = split.extensions["agency"].jobs
    routes = replace(jobs.routes, kind_of={**jobs.routes.kind_of, "ping": kind})
    record = replace(jobs, routes=routes).enqueue(session, "ping", {"delay_seconds": delay_seconds})
    session.commit()
    assert routes.queue_for("ping").endswith(f"-{kind}")
    return record


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_a_killed_work_horse_is_noticed_and_its_job_retried_within_a_minute(
    app, settings, makefile_worker, request
):
    from rq import Queue, Worker

    from tests.processes import children_of, wait_for

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix)
    session = _closing(split, request)
    record = _ping_on(split, session, "payments", 8)  # the payments worker forks per job
    _wait_listening(split, log, worker)
    wait_for(lambda: _job(session, record.id).status is JobStatus.STARTED, 30, what="start")
    redis = split.extensions["agency"].container.redis()
    [rq_worker] = Worker.all(queue=Queue(f"{prefix}-payments", connection=redis))
    [horse] = wait_for(
        lambda: children_of(rq_worker.pid, own_group=True), 10, what="the work horse"
    )
    os.kill(horse, signal.SIGKILL)
    killed = time.monotonic()
    _wait_finished(session, record.id, 60)
    job = _job(session, record.id)
    assert job.status is JobStatus.FINISHED and job.attempts == 2, log.read_text()[-3000:]
    assert time.monotonic() - killed < 60


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_a_killed_matching_process_hands_its_job_back_and_is_replaced(
    app, settings, makefile_worker, request
):
    """The matching worker runs jobs in itself (no horse): killed mid-job, the supervisor
    hands the job back to RQ at once and starts another matching process."""
    from rq import Queue, Worker

    from tests.processes import children_of, wait_for

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix)
    session = _closing(split, request)
    record = _ping_on(split, session, "matching", 8)
    _wait_listening(split, log, worker)
    wait_for(lambda: _job(session, record.id).status is JobStatus.STARTED, 30, what="start")
    redis = split.extensions["agency"].container.redis()
    matching = Queue(f"{prefix}-matching", connection=redis)
    [rq_worker] = Worker.all(queue=matching)
    assert not children_of(rq_worker.pid, own_group=True)  # the job runs in the process
    os.kill(rq_worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    _wait_finished(session, record.id, 60)
    job = _job(session, record.id)
    assert job.status is JobStatus.FINISHED and job.attempts == 2, log.read_text()[-3000:]
    # Handed back at once: the rerun's 8 s and the new process's start, not RQ's lapse
    # of the job's heartbeat (its timeout and a minute).
    assert time.monotonic() - killed < 40
    [replacement] = Worker.all(queue=matching)
    assert replacement.pid != rq_worker.pid
    assert "job handed back" in log.read_text()


@pytest.mark.postgres  # a table lock holds the run mid-way
@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_a_matching_process_killed_mid_wake_hands_the_wake_back_and_every_job_finishes(
    app, settings, makefile_worker, request
):
    """Match jobs reach the worker as one wake of their agency: killed while the wake's
    run ranks a batch, the process's wake is handed back, its next run takes up the job it
    had started, and the jobs its batch had claimed (given back by the rollback) are
    ranked too: none is left queued or started for the sweep."""
    from rq import Queue, Worker
    from sqlalchemy import text

    from agency.introductions.match_jobs import enqueue_match
    from agency.seekers.models import CareRequest
    from tests.factories import make_care_request, make_seeker
    from tests.processes import wait_for

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix)
    session = _closing(split, request)
    agency, partner, first = _match_world(session)
    others = [
        make_care_request(session, make_seeker(session, partner.id), agency) for _ in range(3)
    ]
    request_ids = [first.id, *(r.id for r in others)]
    _wait_listening(split, log, worker)
    engine = split.extensions["agency"].sessionmaker.kw["bind"]
    blocker = engine.connect()
    request.addfinalizer(blocker.close)
    # The wake's run stops where it writes its rankings: mid-batch, its claims uncommitted.
    blocker.execute(text("LOCK TABLE suggestions IN EXCLUSIVE MODE"))  # reads still pass
    records = [enqueue_match(session, session.get(CareRequest, i)) for i in request_ids]
    session.commit()  # one commit: one wake for the four jobs
    job_ids = [r.id for r in records]
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )

    def blocked():
        with engine.connect() as connection:
            return connection.execute(waiting).scalar() > 0

    wait_for(blocked, 30, what="the blocked run")
    assert _job(session, job_ids[0]).status is JobStatus.STARTED
    redis = split.extensions["agency"].container.redis()
    matching = Queue(f"{prefix}-matching", connection=redis)
    [rq_worker] = Worker.all(queue=matching)
    os.kill(rq_worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    blocker.rollback()  # the dead run's backend takes the lock, then finds its client gone
    for job_id in job_ids:
        _wait_finished(session, job_id, 60)
    jobs = [_job(session, job_id) for job_id in job_ids]
    assert [j.status for j in jobs] == [JobStatus.FINISHED] * 4, log.read_text()[-3000:]
    assert jobs[0].attempts == 2  # the job the dead run had started, run again
    assert time.monotonic() - killed < 40  # handed back at once, not found by the sweep
    assert "job handed back" in log.read_text()
    session.expire_all()
    statuses = {session.get(CareRequest, i).status.value for i in request_ids}
    session.rollback()
    assert statuses == {"matching"}  # every request ranked (one provider suits them all)


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_a_new_requests_match_job_goes_before_a_rematch_queued_earlier(
    app, settings, makefile_worker, request
):
    """A provider's change re-ranks the agency on the matching kind's later queue, which the
    matching worker takes from only when no new request's match job waits."""
    from agency.introductions.match_jobs import enqueue_match, enqueue_rematch_for_agencies
    from tests.processes import wait_for

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix)
    session = _closing(split, request)
    agency, _, care_request = _match_world(session)
    _wait_listening(split, log, worker)
    busy = _ping_on(split, session, "matching", 3)  # holds the matching worker meanwhile
    wait_for(lambda: _job(session, busy.id).status is JobStatus.STARTED, 30, what="start")
    [rematch] = enqueue_rematch_for_agencies(session, [agency.id])
    session.commit()
    match = enqueue_match(session, care_request)
    session.commit()
    routes = split.extensions["agency"].jobs.routes
    assert routes.queue_for(rematch.name) == f"{prefix}-matching-later"
    for record in (busy, rematch, match):
        _wait_finished(session, record.id, 60)
    rematch_row, match_row = _job(session, rematch.id), _job(session, match.id)
    assert rematch_row.status is match_row.status is JobStatus.FINISHED, log.read_text()[-3000:]
    assert match_row.started_at < rematch_row.started_at


@pytest.mark.redis
@pytest.mark.committed  # another process reads what the test wrote
def test_a_slow_partner_receiver_does_not_delay_a_match_job(
    app, settings, makefile_worker, request
):
    from agency.introductions.match_jobs import enqueue_match
    from agency.webhooks.models import WebhookAttempt, WebhookEndpoint
    from agency.webhooks.service import emit
    from tests.processes import TricklingReceiver, wait_for

    prefix, worker, log = makefile_worker
    split = _split_app(settings, prefix, webhook_allow_private=True)
    session = _closing(split, request)
    _, partner, care_request = _match_world(session)
    _wait_listening(split, log, worker)

    def timed_match():
        started = time.monotonic()
        record = enqueue_match(session, care_request)
        session.commit()
        _wait_finished(session, record.id, 60)
        assert _job(session, record.id).status is JobStatus.FINISHED, log.read_text()[-3000:]
        return time.monotonic() - started

    baseline = timed_match()
    receiver = TricklingReceiver(interval=1.0)
    try:
        session.add(
            WebhookEndpoint(
                id="whe_slow",
                partner_client_id=partner.id,
                url=receiver.url,
                events=["care_request.matched"],
                secret="whsec_" + "A" * 32,
            )
        )
        emit(session, "care_request.matched", partner.id, {"care_request_id": care_request.id})
        session.commit()
        wait_for(lambda: receiver.connections, 30, what="the slow receiver to be called")
        delayed = timed_match()  # while the webhook worker is stuck on the trickle
        assert delayed - baseline < 1.0, (baseline, delayed)
        # The attempt ends at its total deadline (10 s), as a failure to retry.
        attempt = wait_for(
            lambda: session.scalar(select(WebhookAttempt)) or session.expire_all(),
            30,
            what="the attempt to end",
        )
        assert attempt.status_code is None and attempt.error == "deadline_exceeded"
        assert attempt.duration_ms < 12_000
    finally:
        receiver.stop()
