from dataclasses import replace

import pytest

from agency import create_app
from agency.config import Settings


def test_liveness_answers(client):
    assert client.get("/health/live").get_json()["status"] == "ok"


def test_readiness_without_redis_checks_the_database_and_runs_jobs_inline(settings):
    response = create_app(replace(settings, redis_url=None)).test_client().get("/health/ready")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "queue": "inline"}


@pytest.mark.redis
def test_readiness_is_503_when_no_worker_listens_on_a_queue(app, client, rq_queue):
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "not_ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["queue"] == "ok"
    assert body["checks"]["workers"] == f"no worker on {rq_queue.name}"
    assert body["queues"][rq_queue.name]["workers"] == 0


@pytest.mark.redis
def test_readiness_is_200_with_a_worker_and_reports_the_oldest_queued_job(
    app, client, session, rq_queue
):
    from rq import Worker

    app.extensions["agency"].jobs.enqueue(session, "ping", {})
    session.commit()
    worker = Worker([rq_queue], connection=rq_queue.connection)
    worker.register_birth()  # what a started worker writes in RQ's worker registry
    try:
        response = client.get("/health/ready")
    finally:
        worker.register_death()
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()["queues"][rq_queue.name]
    assert figures["workers"] == 1
    assert figures["queued"] == 1
    assert 0 <= figures["oldest_queued_seconds"] < 60


def test_readiness_fails_when_redis_is_unreachable(settings):
    broken = Settings(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    response = create_app(broken).test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["code"] == "not_ready"
    assert response.get_json()["checks"]["queue"] != "ok"
