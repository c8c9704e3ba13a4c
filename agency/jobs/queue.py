"""Enqueue after commit; run on RQ (real Redis) or inline; keep each job's status in the database.

A job function is registered with :func:`job` under a stable name and receives
``(session, job_record, **arguments)``; it may call :func:`report_progress`,
must commit its own work, and returns a dict (its result) that may hold a
``result_path`` link. The wrapper :func:`run_job` is what RQ executes: it marks
the job started, runs it, and records finished or failed with the error. RQ
retries failures with back-off; a job must therefore be idempotent.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from agency.auth import Scope
from agency.config import Settings
from agency.db import after_commit, session_scope, utcnow
from agency.ids import new_id
from agency.jobs.models import JobRecord, JobStatus

log = logging.getLogger("agency.jobs")

JobFunction = Callable[..., dict[str, Any] | None]
_registry: dict[str, JobFunction] = {}
RETRY_INTERVALS = [5, 30, 120]  # seconds between RQ retries of a failed job


def job(name: str) -> Callable[[JobFunction], JobFunction]:
    def register(function: JobFunction) -> JobFunction:
        _registry[name] = function
        return function

    return register


@dataclass(frozen=True)
class JobRunner:
    """Where jobs go: a Redis queue, or this process right after commit."""

    settings: Settings

    def enqueue(
        self,
        session: Session,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        scope: Scope | None = None,
        job_id: str | None = None,
    ) -> JobRecord:
        """Record the job in this transaction; dispatch it once the transaction commits."""
        if name not in _registry:
            raise KeyError(f"no job registered as {name!r}")
        scope = scope or Scope()
        record = JobRecord(
            id=job_id or new_id("job"),
            name=name,
            arguments=arguments or {},
            status=JobStatus.QUEUED,
            agency_id=next(iter(sorted(scope.agency_ids)), None),
            council_id=next(iter(sorted(scope.council_ids)), None),
            partner_client_id=scope.partner_client_id,
            provider_id=scope.provider_id,
        )
        session.add(record)
        after_commit(session, lambda: self.dispatch(record.id))
        return record

    def dispatch(self, job_id: str) -> None:
        if self.settings.inline_jobs:
            run_job(job_id, settings=self.settings)
            return
        from rq import Retry

        try:
            rq_queue(self.settings.redis_url or "", self.settings.queue_name).enqueue(
                "agency.jobs.queue.run_job",
                job_id,
                job_id=job_id,
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
                failure_ttl=7 * 24 * 3600,
                result_ttl=24 * 3600,
            )
        except Exception as error:  # Redis down: the row says queued; `flask requeue-jobs` resends.
            log.error(
                "enqueue failed", extra={"job_id": job_id, "error_type": type(error).__name__}
            )


@lru_cache(maxsize=4)
def rq_queue(redis_url: str, name: str) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(name, connection=Redis.from_url(redis_url))


def report_progress(session: Session, record: JobRecord, percent: int) -> None:
    """Progress is written in its own short transaction so readers see it mid-job."""
    session.execute(
        update(JobRecord)
        .where(JobRecord.id == record.id)
        .values(progress=max(0, min(100, percent)))
    )
    session.commit()


def run_job(job_id: str, settings: Settings | None = None) -> dict[str, Any] | None:
    """Execute a recorded job (the function RQ workers call)."""
    settings = settings or Settings.from_env()
    load_job_modules()
    with session_scope(settings.database_url) as session:
        record = session.get(JobRecord, job_id)
        if record is None:
            log.error("job row missing", extra={"job_id": job_id})
            return None
        if record.status is JobStatus.FINISHED:
            return record.result  # a redelivered job that already ran: nothing to do
        record.status = JobStatus.STARTED
        record.started_at = utcnow()
        record.attempts += 1
        session.commit()
        log.info(
            "job started",
            extra={"job_id": job_id, "job_name": record.name, "attempt": record.attempts},
        )
        try:
            function = _registry[record.name]
            result = function(session, record, settings=settings, **record.arguments) or {}
        except Exception as error:
            session.rollback()
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id)
                .values(
                    status=JobStatus.FAILED,
                    error=f"{type(error).__name__}: {error}",
                    ended_at=utcnow(),
                )
            )
            session.commit()
            log.error(
                "job failed",
                extra={
                    "job_id": job_id,
                    "job_name": record.name,
                    "error_type": type(error).__name__,
                },
            )
            log.debug("job traceback: %s", traceback.format_exc())
            if not settings.inline_jobs:
                raise  # let RQ record the failure and schedule its retry
            return None
        record = session.get(JobRecord, job_id)
        assert record is not None
        record.status = JobStatus.FINISHED
        record.progress = 100
        record.result = result
        record.result_path = result.get("result_path")
        record.error = None
        record.ended_at = utcnow()
        session.commit()
        log.info("job finished", extra={"job_id": job_id, "job_name": record.name})
        return result


def load_job_modules() -> None:
    """Import every module that registers jobs (workers need them before running one)."""
    import agency.introductions.expiry  # noqa: F401
    import agency.introductions.match_jobs  # noqa: F401
    import agency.introductions.match_triggers  # noqa: F401
    import agency.isf.jobs  # noqa: F401
    import agency.jobs.builtin  # noqa: F401
    import agency.webhooks.delivery  # noqa: F401
