"""RQ's cron config (agency/cron.py): the entry that can run long carries its own timeout."""

import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.cron import CronScheduler
from rq.cron_job_registry import get_registry_key
from rq.job import Job

from tests.conftest import REDIS_URL

CRON_FILE = Path(__file__).resolve().parent.parent / "agency" / "cron.py"


def _registered() -> dict:  # type: ignore[type-arg]
    scheduler = CronScheduler(connection=Redis())  # not started: only reads the config
    scheduler.load_config_from_file(str(CRON_FILE))
    return {job.name: job for job in scheduler.get_jobs()}


def test_the_audit_checkpoint_is_registered_with_its_own_timeout():
    from agency.cron import CHECKPOINT_TIMEOUT_SECONDS

    jobs = _registered()
    checkpoint = jobs["audit-checkpoint"]
    assert checkpoint.func.__name__ == "checkpoint_job"
    assert checkpoint.job_options["job_timeout"] == CHECKPOINT_TIMEOUT_SECONDS == 30 * 60
    # Longer than RQ's default, and ends before the next hourly run is due.
    assert Queue.DEFAULT_TIMEOUT < CHECKPOINT_TIMEOUT_SECONDS < 3600
    # The others only record and dispatch jobs: RQ's default timeout is theirs.
    assert {name for name, job in jobs.items() if "job_timeout" in job.job_options} == {
        "audit-checkpoint"
    }


@pytest.mark.redis
def test_the_job_the_scheduler_enqueues_carries_the_timeout():
    checkpoint = _registered()["audit-checkpoint"]
    redis = Redis.from_url(REDIS_URL)
    # A queue and cron name of this test's own: no worker or scheduler of another test sees it.
    checkpoint.queue_name = checkpoint.name = f"agency-test-cron-{uuid.uuid4().hex[:8]}"
    try:
        enqueued = checkpoint.enqueue(redis)
        stored = Job.fetch(enqueued.id, connection=redis)
        assert stored.timeout == 30 * 60 != Queue.DEFAULT_TIMEOUT
        assert stored.func_name == "agency.audit.checkpoints.checkpoint_job"
    finally:
        Queue(checkpoint.queue_name, connection=redis).delete(delete_jobs=True)
        redis.delete(checkpoint.job_history_key)
        redis.zrem(get_registry_key(), checkpoint.name)
