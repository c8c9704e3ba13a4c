"""On a worker, a match job ranks the match jobs of its agency queued behind it in its own
transaction; their rows are then finished, and a delivery of one finds it so
(agency.introductions.match_batch). On RQ the jobs go as one wake of their agency.

Most tests play the worker without Redis: the jobs' rows stay queued (dispatch is held)
and each RQ delivery is a call of ``execute``, with ``on_a_worker`` answered yes.
"""

import logging
import threading
import time
from dataclasses import replace

import pytest
from rq import SimpleWorker
from sqlalchemy import event, select, text, update

from agency import create_app
from agency.introductions import match_batch, match_jobs
from agency.introductions.match_jobs import enqueue_match
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import JobRunner, claim_queued, execute
from agency.seekers.match_queue import MATCH_JOB
from agency.seekers.models import CareRequest, RequestStatus
from tests.factories import make_agency, make_care_request, make_partner, make_provider, make_seeker


@pytest.fixture
def held(settings, app, monkeypatch):
    """An app whose match jobs stay queued, as when the worker has not reached them yet."""
    monkeypatch.setattr(JobRunner, "dispatch", lambda self, job_id, name=None, agency_id=None: True)
    return create_app(replace(settings, redis_url=None))


@pytest.fixture
def on_a_worker(monkeypatch):
    monkeypatch.setattr(match_jobs, "on_a_worker", lambda: True)


@pytest.fixture
def world(session):
    agency = make_agency(session)
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    make_provider(session, agency)
    make_provider(session, agency)
    return agency, seeker


def queue_matches(app, session, requests):
    """A match job for each request, queued in one commit (the rows only: dispatch is held)."""
    previous = session.info.get("jobs")
    session.info["jobs"] = app.extensions["agency"].jobs
    try:
        with app.app_context():
            records = [enqueue_match(session, r) for r in requests]
            session.commit()
    finally:
        session.info["jobs"] = previous
    return [r.id for r in records]


def new_requests(session, seeker, agency, n):
    return [make_care_request(session, seeker, agency) for _ in range(n)]


def deliver(app, job_id):
    """What the job's RQ delivery runs."""
    runner = app.extensions["agency"].jobs
    return execute(job_id, runner.sessions, runner.settings, runner.routes)


def rows(session, job_ids):
    session.expire_all()
    return [session.get(JobRecord, job_id) for job_id in job_ids]


def ranking_fails_for(monkeypatch, care_request_id, error):
    """``match_batch.rank_request`` raises ``error`` for one request and ranks the others;
    returns the real one, to put back."""
    original = match_batch.rank_request

    def fails_for_one(db, care_request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if care_request.id == care_request_id:
            raise error
        return original(db, care_request, *args, **kwargs)

    monkeypatch.setattr(match_batch, "rank_request", fails_for_one)
    return original


def active_by_job(session, care_request_id):
    return set(
        session.scalars(
            select(Suggestion.job_id).where(
                Suggestion.care_request_id == care_request_id,
                Suggestion.status == SuggestionStatus.ACTIVE,
            )
        )
    )


def test_a_match_job_on_a_worker_ranks_the_requests_queued_behind_it_and_finishes_their_jobs(
    held, session, world, on_a_worker, caplog
):
    agency, seeker = world
    requests = new_requests(session, seeker, agency, 4)
    elsewhere = new_requests(session, seeker, make_agency(session), 1)
    leader, *claimed = queue_matches(held, session, requests)
    [other_agencys] = queue_matches(held, session, elsewhere)
    closed = requests[2]
    session.execute(
        update(CareRequest).where(CareRequest.id == closed.id).values(status=RequestStatus.CLOSED)
    )
    session.commit()

    with caplog.at_level(logging.INFO, logger="agency.jobs"):
        result = deliver(held, leader)

    assert result["suggestions"] == 2 and "ranked_with" not in result
    finished = [r for r in caplog.records if r.getMessage() == "job finished"]
    assert {(r.job_id, getattr(r, "leader_job_id", None)) for r in finished} == {
        (leader, None),
        *((job_id, leader) for job_id in claimed),
    }
    jobs = rows(session, [leader, *claimed])
    assert [j.status for j in jobs] == [JobStatus.FINISHED] * 4
    assert [j.attempts for j in jobs] == [1] * 4
    assert [j.result.get("ranked_with") for j in jobs] == [None] + [leader] * 3
    assert jobs[2].result == {
        "result_path": f"/care-requests/{closed.id}/suggestions",
        "suggestions": 0,
        "skipped": True,
        "ranked_with": leader,
    }
    for request, job in zip(requests, jobs, strict=True):
        if request is not closed:
            assert job.result["suggestions"] == 2
            assert job.result_path == f"/care-requests/{request.id}/suggestions"
            assert active_by_job(session, request.id) == {job.id}  # its own job's ranking
            row = session.get(CareRequest, request.id)
            assert row.status is RequestStatus.MATCHING and row.ranked_generation is not None
    assert active_by_job(session, closed.id) == set()
    [untouched] = rows(session, [other_agencys])
    assert (untouched.status, untouched.attempts) == (JobStatus.QUEUED, 0)

    # RQ still delivers each claimed job: it returns what the batch stored, runs nothing.
    assert deliver(held, claimed[0]) == jobs[1].result
    again = rows(session, [claimed[0]])[0]
    assert (again.status, again.attempts) == (JobStatus.FINISHED, 1)
    assert active_by_job(session, requests[1].id) == {claimed[0]}


def test_two_jobs_of_one_request_share_one_ranking(held, session, world, on_a_worker):
    agency, seeker = world
    [request] = new_requests(session, seeker, agency, 1)
    leader = queue_matches(held, session, [request])[0]
    second = queue_matches(held, session, [request])[0]
    deliver(held, leader)
    first, other = rows(session, [leader, second])
    assert other.status is JobStatus.FINISHED and other.result["ranked_with"] == leader
    assert len(session.scalars(select(Suggestion.id)).all()) == 2  # one ranking of two
    assert active_by_job(session, request.id) == {leader}


def test_inline_a_match_job_ranks_only_its_own_request(held, session, world):
    """Inline, each job runs right after the commit that queued it: none is claimed."""
    agency, seeker = world
    leader, behind = queue_matches(held, session, new_requests(session, seeker, agency, 2))
    deliver(held, leader)
    first, second = rows(session, [leader, behind])
    assert first.status is JobStatus.FINISHED
    assert (second.status, second.attempts) == (JobStatus.QUEUED, 0)


def test_a_claimed_request_changed_meanwhile_is_put_back_for_its_own_delivery(
    held, session, world, on_a_worker, monkeypatch
):
    agency, seeker = world
    requests = new_requests(session, seeker, agency, 3)
    leader, changed, kept = queue_matches(held, session, requests)
    original = match_batch.rank_request

    def a_partner_edits(db, care_request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if care_request.id == requests[1].id:  # its version moves on after it was read
            db.execute(
                update(CareRequest)
                .where(CareRequest.id == care_request.id)
                .values(notes="Mornings only now.", version=CareRequest.version + 1)
                .execution_options(synchronize_session=False)  # the batch's copy is as read
            )
        return original(db, care_request, *args, **kwargs)

    monkeypatch.setattr(match_batch, "rank_request", a_partner_edits)
    deliver(held, leader)
    first, put_back, other = rows(session, [leader, changed, kept])
    assert first.status is other.status is JobStatus.FINISHED
    assert other.result["ranked_with"] == leader
    assert (put_back.status, put_back.attempts, put_back.started_at) == (JobStatus.QUEUED, 0, None)
    assert active_by_job(session, requests[1].id) == set()
    assert session.get(CareRequest, requests[1].id).status is RequestStatus.OPEN

    monkeypatch.setattr(match_batch, "rank_request", original)
    assert "ranked_with" not in deliver(held, changed)  # its own delivery ranks it
    [ranked] = rows(session, [changed])
    assert ranked.status is JobStatus.FINISHED and ranked.attempts == 1
    row = session.get(CareRequest, requests[1].id)
    assert (row.status, row.notes) == (RequestStatus.MATCHING, "Mornings only now.")
    assert active_by_job(session, row.id) == {changed}


def test_a_batch_that_fails_gives_every_claimed_job_back_to_its_own_delivery(
    held, session, world, on_a_worker, monkeypatch
):
    agency, seeker = world
    requests = new_requests(session, seeker, agency, 3)
    leader, *claimed = queue_matches(held, session, requests)
    original = ranking_fails_for(monkeypatch, requests[2].id, MemoryError("worker killed"))
    assert deliver(held, leader) is None
    first, *back = rows(session, [leader, *claimed])
    assert first.status is JobStatus.FAILED
    assert [(j.status, j.attempts) for j in back] == [(JobStatus.QUEUED, 0)] * 2
    assert session.scalars(select(Suggestion.id)).all() == []

    monkeypatch.setattr(match_batch, "rank_request", original)
    deliver(held, claimed[0])  # the first delivery ranks the other with its own
    assert [j.status for j in rows(session, claimed)] == [JobStatus.FINISHED] * 2
    assert rows(session, claimed)[1].result["ranked_with"] == claimed[0]


@pytest.mark.postgres
@pytest.mark.committed  # counts the engine's real commits and statements
def test_a_batch_takes_one_commit_and_as_many_statements_for_six_requests_as_for_three(
    held, session, settings, world, on_a_worker
):
    from agency.db import get_engine

    agency, seeker = world
    warm = queue_matches(held, session, new_requests(session, seeker, agency, 1))
    deliver(held, warm[0])  # the first job of the day stores the pool (its own commit)
    engine = get_engine(settings.database_url)

    def measured(behind):  # type: ignore[no-untyped-def]
        leader, *claimed = queue_matches(
            held, session, new_requests(session, seeker, agency, 1 + behind)
        )
        statements, commits = [], []
        on_statement = lambda *args: statements.append(args[2])  # noqa: E731
        on_commit = lambda *args: commits.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "commit", on_commit)
        try:
            deliver(held, leader)
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine, "commit", on_commit)
        assert all(j.status is JobStatus.FINISHED for j in rows(session, claimed))
        return len(statements), len(commits)

    three, six = measured(3), measured(6)
    # The start mark's commit, then the batch's one. Statements: the start mark, the job's
    # request, the committed hours and the ratings (the pool's state is read on a binary
    # cursor the engine's events do not see), the relaxed commit, the claim, the claimed
    # requests, the exclusions, the weights, the first rankings' UPDATE, one INSERT of
    # every suggestion, one executemany finishing every row: 12, whatever the batch.
    assert three == six, (three, six)
    assert three[1] == 2 and three[0] <= 12, three


@pytest.mark.postgres
@pytest.mark.committed  # two real transactions: a delivery waits on the batch's row lock
@pytest.mark.parametrize("batch_commits", [True, False])
def test_a_delivery_during_the_batch_waits_for_it_then_returns_its_result_or_runs(
    held, session, settings, world, on_a_worker, monkeypatch, batch_commits
):
    """Under READ COMMITTED the delivery's start mark waits for the claimed row's lock; once
    the batch commits it finds the row finished and returns the stored result; if the
    batch rolls back, the row is queued again and the delivery runs the job itself."""
    agency, seeker = world
    requests = new_requests(session, seeker, agency, 2)
    leader, claimed = queue_matches(held, session, requests)
    original = match_batch.rank_request
    ranking, go = threading.Event(), threading.Event()

    def waits_mid_batch(db, care_request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if care_request.id == requests[1].id and not go.is_set():
            ranking.set()
            go.wait(30)
            if not batch_commits:
                raise MemoryError("worker killed")
        return original(db, care_request, *args, **kwargs)

    monkeypatch.setattr(match_batch, "rank_request", waits_mid_batch)
    answers: dict[str, object] = {}
    batch = threading.Thread(target=lambda: answers.update(leader=deliver(held, leader)))
    batch.start()
    assert ranking.wait(30)
    delivery = threading.Thread(target=lambda: answers.update(claimed=deliver(held, claimed)))
    delivery.start()
    deadline = time.monotonic() + 10
    with held.extensions["agency"].sessionmaker() as watcher:
        waiting = 0
        while not waiting and time.monotonic() < deadline:
            waiting = watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE 'WITH started AS%'"
                )
            )
            watcher.rollback()
            time.sleep(0.05)
    assert waiting == 1 and delivery.is_alive()
    go.set()
    batch.join(30)
    delivery.join(30)

    first, second = rows(session, [leader, claimed])
    if batch_commits:
        assert answers["claimed"] == second.result and second.result["ranked_with"] == leader
        assert first.status is second.status is JobStatus.FINISHED
        assert second.attempts == 1  # the claim's; the delivery ran nothing
    else:
        assert first.status is JobStatus.FAILED
        assert second.status is JobStatus.FINISHED and second.attempts == 1
        assert "ranked_with" not in answers["claimed"]  # ran it itself
    assert active_by_job(session, requests[1].id) == {claimed}


@pytest.mark.redis
def test_a_real_worker_ranks_the_queued_requests_with_the_first_from_one_wake(
    app, session, world, rq_queue
):
    """Four match jobs of one agency send one wake (agency.jobs.queue.JobRunner.dispatch);
    its run ranks the oldest job's request with the other three's, and RQ holds nothing
    else to deliver."""
    agency, seeker = world
    job_ids = queue_matches(app, session, new_requests(session, seeker, agency, 4))
    [wake] = rq_queue.get_job_ids()
    assert wake.startswith("wake_") and rq_queue.fetch_job(wake).args == (MATCH_JOB, agency.id)
    SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    jobs = rows(session, job_ids)
    assert [j.status for j in jobs] == [JobStatus.FINISHED] * 4
    assert [j.result.get("ranked_with") for j in jobs] == [None] + [job_ids[0]] * 3
    assert rq_queue.fetch_job(wake).return_value() == jobs[0].result
    assert all(rq_queue.fetch_job(job_id) is None for job_id in job_ids)  # never sent alone


@pytest.mark.postgres
def test_the_claim_reads_the_queued_jobs_index_at_a_long_history_and_a_backlog(session):
    """200,000 jobs, the newest 6,000 still queued (a third webhook deliveries, the rest
    match jobs of 20 agencies): the claim reads the partial index of queued rows in order,
    not every queued row (or the agency's whole history) and a sort of them."""
    session.execute(
        text(
            "INSERT INTO jobs (id, name, arguments, status, progress, attempts, agency_id,"
            " created_at) SELECT 'job_h' || n, CASE WHEN n % 3 = 0 THEN 'webhooks.deliver'"
            " ELSE :name END, '{}', CASE WHEN n <= 6000 THEN 'queued' ELSE 'finished' END,"
            " 0, 0, CASE WHEN n % 3 > 0 THEN 'agy_' || (n % 20) END,"
            " now() - n * interval '1 second' FROM generate_series(1, 200000) AS n"
        ),
        {"name": MATCH_JOB},
    )
    session.execute(text("ANALYZE jobs"))
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "SKIP LOCKED" in statement:
            captured.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        assert len(claim_queued(session, MATCH_JOB, "agy_7", 16)) == 16
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    [(statement, parameters)] = captured
    plan = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_jobs_queued_agency_name_created" in plan, plan
    assert "Sort" not in plan, plan
