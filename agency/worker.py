"""The worker process (``agency-worker``) and the functions RQ executes.

``agency-worker`` builds the composition root once, logs JSON lines like the web,
and serves the queues in priority order: payments and ledger work, then
matching, then partner webhook deliveries (see ``agency.jobs.queue.QUEUE_KINDS``).
It forks a work horse per job (RQ's default), so a job that crashes or is killed
cannot take the worker down; a killed horse is noticed at once and the job
retried (or recorded failed once its retries are spent).

RQ-level entry points (``run_job``, the periodic ones that ``agency/cron.py``
schedules) each start from :func:`container`, which is built
once per process from the environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from typing import Any

from sqlalchemy import select

from agency.bootstrap import Container, build
from agency.config import Settings
from agency.db import utcnow
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import execute, mark_failed

log = logging.getLogger("agency.worker")

_containers: dict[Any, Container] = {}
STRANDED_AFTER = dt.timedelta(seconds=30)  # a queued row older than this and not in Redis
MAINTENANCE_SECONDS = 30  # how often RQ's registries are swept (abandoned jobs, expired ones)
MONITOR_SECONDS = 10  # how often the worker checks on its work horse (heartbeat)


def container() -> Container:
    """This process's composition root, built from the environment (once per settings)."""
    settings = Settings.from_env()
    key = repr(settings)
    built = _containers.get(key)
    if built is None:
        built = _containers[key] = build(settings)
    return built


def run_job(job_id: str) -> dict[str, Any] | None:
    """What RQ runs for every recorded job."""
    c = container()
    return execute(job_id, c.sessions, c.settings, c.jobs.routes)


def enqueue_periodic(name: str, c: Container | None = None) -> str:
    """Record and dispatch one run of the registered job ``name`` (called by rq cron)."""
    c = c or container()
    with c.sessions() as session:
        record = c.jobs.enqueue(session, name, {})
        session.commit()
        return record.id


def replan_all_agencies(c: Container | None = None) -> int:
    """Queue a batch re-plan for every agency (called by rq cron, hourly)."""
    from agency.directory.models import Agency
    from agency.introductions.match_jobs import enqueue_replan

    c = c or container()
    with c.sessions() as session:
        agencies = list(session.scalars(select(Agency).order_by(Agency.name)))
        for agency in agencies:
            enqueue_replan(session, agency)
        session.commit()
    return len(agencies)


def sweep_jobs(c: Container | None = None) -> dict[str, int]:
    """The outbox sweep: send rows Redis never got; record jobs RQ gave up on as failed.

    A row is written in the caller's transaction and sent to Redis after commit;
    when Redis was down at that moment the row stays ``queued``. A job whose work
    horse was killed and whose retries are spent stays ``started`` in the row.
    Run every minute by ``rq cron`` and at every worker start.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus as RqStatus

    c = c or container()
    if c.settings.inline_jobs:
        return {"dispatched": 0, "failed": 0}
    connection = c.redis()
    cutoff = utcnow() - STRANDED_AFTER
    with c.sessions() as session:
        rows = session.execute(
            select(JobRecord.id, JobRecord.name, JobRecord.status)
            .where(
                JobRecord.status.in_((JobStatus.QUEUED, JobStatus.STARTED)),
                JobRecord.created_at < cutoff,
            )
            .order_by(JobRecord.created_at)
            .limit(1000)
        ).all()
    dispatched = failed = 0
    for job_id, name, _status in rows:
        try:
            rq_status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
        except NoSuchJobError:
            rq_status = None
        if rq_status is None:
            if c.jobs.dispatch(job_id, name):
                dispatched += 1
        elif rq_status in (RqStatus.FAILED, RqStatus.STOPPED, RqStatus.CANCELED):
            mark_failed(c.sessions, job_id, c.jobs.routes.failure_code(name))
            failed += 1
    if dispatched or failed:
        log.info("job sweep", extra={"count": dispatched + failed, "event": "job_sweep"})
    return {"dispatched": dispatched, "failed": failed}


def _worker_class() -> type:
    from rq import Worker
    from rq.job import JobStatus as RqStatus

    class AgencyWorker(Worker):  # type: ignore[misc]
        """RQ's forking worker that also records, in the job's row, a failure RQ gives up on."""

        def handle_job_failure(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
            super().handle_job_failure(job, queue, *args, **kwargs)
            try:
                if job.get_status() == RqStatus.FAILED:
                    c = container()
                    with c.sessions() as session:
                        name = session.scalar(select(JobRecord.name).where(JobRecord.id == job.id))
                    if name is not None:
                        mark_failed(c.sessions, job.id, c.jobs.routes.failure_code(name))
                        log.error("job gave up", extra={"job_id": job.id, "job_name": name})
            except Exception as error:  # never let bookkeeping kill the worker
                log.error(
                    "job failure not recorded",
                    extra={"job_id": job.id, "error_type": type(error).__name__},
                )

    return AgencyWorker


def main(argv: list[str] | None = None) -> int:
    """``agency-worker [--burst] [--queues payments matching webhooks]``."""
    from agency.jobs.queue import QUEUE_KINDS, rq_queue
    from agency.logs import configure_logging

    parser = argparse.ArgumentParser(prog="agency-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument(
        "--queues",
        nargs="+",
        choices=QUEUE_KINDS,
        default=list(QUEUE_KINDS),
        help="the kinds of work to serve, in priority order (default: all)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if not settings.redis_url:
        print("agency-worker needs REDIS_URL (without it jobs run inline)", file=sys.stderr)
        return 2
    c = container()
    names = list(dict.fromkeys(c.jobs.routes.queue_of_kind(kind) for kind in args.queues))
    queues = [rq_queue(settings.redis_url, name) for name in names]
    sweep_jobs(c)
    worker = _worker_class()(
        queues,
        connection=queues[0].connection,
        maintenance_interval=MAINTENANCE_SECONDS,
        job_monitoring_interval=MONITOR_SECONDS,
    )
    log.info("worker starting", extra={"event": ",".join(names)})
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
