"""What docker-compose runs, run for real: gunicorn serving wsgi:app, and `rq worker` on Redis."""

import os
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
