"""The worker process (``agency-worker``) and the functions RQ executes.

``agency-worker`` builds the composition root once, logs JSON lines like the web,
and runs one RQ worker process per queue: payments and ledger work, matching,
partner webhook deliveries (see ``agency.jobs.queue.QUEUE_KINDS``), so a partner's
slow receiver can only ever hold up other webhook deliveries. ``--together`` runs
one process serving the queues in that priority order instead. The payments and
webhooks workers fork a work horse per job (RQ's default), so a job that crashes or is
killed cannot take the worker down; a killed horse is noticed at once and the job
retried (or recorded failed once its retries are spent). The matching process, when it
serves that queue alone, runs its jobs in itself (RQ's ``SimpleWorker``): a fresh horse
per job paid for a new database connection, SQLAlchemy's statement compilation, the
agency's pool arrays read again and RQ's bookkeeping on every job (10 jobs/s at 10k
providers; docs/performance.md), where this process keeps them warm, the arrays included
(``agency.introductions.pool_cache.keep_in_memory``). If it dies mid-job, the supervisor
hands the job back to RQ at once (:func:`_hand_back_work_of`), retried like a killed
horse's, and starts another matching process.

RQ-level entry points (``run_job``, the periodic ones that ``agency/cron.py``
schedules) each start from :func:`container`, which is built
once per process from the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import sys
import time
from typing import Any

from sqlalchemy import select

from agency.bootstrap import Container, build
from agency.config import Settings
from agency.db import utcnow
from agency.directory.models import Agency
from agency.introductions.match_jobs import enqueue_replan
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import execute, mark_failed
from agency.logs import configure_logging
from agency.unit_of_work import unit_of_work

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


def run_wake(name: str, agency_id: str) -> dict[str, Any] | None:
    """What RQ runs for a wake of an agency's coalesced jobs (``JobRunner.dispatch``).

    It clears the agency's wake mark, then runs the agency's oldest queued job, which
    claims the ones queued behind it (``agency.jobs.queue.claim_queued``); jobs still
    queued after it get a wake of their own, behind whatever else waits on the queue. A
    job that fails here is sent on its own, to be retried by RQ like any job. The job a run
    takes is noted on the wake (RQ's job meta): when the process dies mid-run and the wake
    is handed back (``_hand_back_work_of``), its next run takes that job up again.
    """
    from rq import get_current_job

    c = container()
    current = get_current_job()
    died_in = current.meta.get("running") if current is not None else None
    c.jobs.woken(name, agency_id)
    # A job this wake's run started before its process died runs again, like a redelivery.
    job_id = died_in if died_in is not None else c.jobs.oldest_queued(name, agency_id)
    if job_id is None:
        return None
    if current is not None:
        current.meta["running"] = job_id
        current.save_meta()
    try:
        result = execute(job_id, c.sessions, c.settings, c.jobs.routes, queued_only=died_in is None)
    except Exception:  # recorded failed by execute (and logged): its own retries from here
        c.jobs.dispatch(job_id, name)
        result = None
    left = c.jobs.oldest_queued(name, agency_id)
    if left is not None:
        c.jobs.dispatch(left, name, agency_id)
    return result


def enqueue_periodic(name: str, c: Container | None = None) -> str:
    """Record and dispatch one run of the registered job ``name`` (called by rq cron)."""
    c = c or container()
    with c.sessions() as session, unit_of_work(session) as uow:
        record = c.jobs.enqueue(session, name, {})
        uow.commit()
        return record.id


def replan_all_agencies(c: Container | None = None) -> int:
    """Queue a batch re-plan for every agency (called by rq cron, hourly)."""
    c = c or container()
    with c.sessions() as session, unit_of_work(session) as uow:
        agencies = list(session.scalars(select(Agency).order_by(Agency.name)))
        for agency in agencies:
            enqueue_replan(session, agency)
        uow.commit()
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
            select(
                JobRecord.id,
                JobRecord.name,
                JobRecord.status,
                JobRecord.agency_id,
                JobRecord.started_at,
            )
            .where(
                JobRecord.status.in_((JobStatus.QUEUED, JobStatus.STARTED)),
                JobRecord.created_at < cutoff,
            )
            .order_by(JobRecord.created_at)
            .limit(1000)
        ).all()
    dispatched = failed = 0
    for job_id, name, status, agency_id, started_at in rows:
        if status is JobStatus.STARTED and started_at is not None and started_at > cutoff:
            continue  # started moments ago: a wake's run may have it (wakes' jobs have no RQ job)
        try:
            rq_status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
        except NoSuchJobError:
            rq_status = None
        if rq_status is None:
            # A queued job of a coalesced name goes as a wake of its agency (none is sent if
            # one waits); a started one that lost its run goes on its own.
            if c.jobs.dispatch(job_id, name, agency_id if status is JobStatus.QUEUED else None):
                dispatched += 1
        elif rq_status in (RqStatus.FAILED, RqStatus.STOPPED, RqStatus.CANCELED):
            mark_failed(c.sessions, job_id, c.jobs.routes.failure_code(name))
            failed += 1
    if dispatched or failed:
        log.info("job sweep", extra={"count": dispatched + failed, "event": "job_sweep"})
    return {"dispatched": dispatched, "failed": failed}


def _worker_class(forking: bool = True) -> type:
    """RQ's forking worker, or (``forking=False``) its worker that runs jobs in itself."""
    from rq import SimpleWorker, Worker
    from rq.job import JobStatus as RqStatus

    class AgencyWorker(Worker if forking else SimpleWorker):  # type: ignore[misc]
        """An RQ worker that also records, in the job's row, a failure RQ gives up on."""

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


def _in_process(kinds: list[str], single_queue: bool) -> bool:
    """Jobs run in the worker itself only on a matching queue of its own."""
    return kinds == ["matching"] and not single_queue


def _serve(kinds: list[str], burst: bool) -> None:
    """One RQ worker on the queues of ``kinds``, in that order (runs in this process)."""
    from agency.jobs.queue import rq_queue

    c = container()
    url = c.settings.redis_url or ""
    names = c.jobs.routes.queues_of_kinds(kinds)
    queues = [rq_queue(url, name) for name in names]
    in_process = _in_process(kinds, c.settings.single_queue)
    if in_process:  # the agency's pool arrays stay in memory between match jobs
        from agency.introductions import pool_cache

        pool_cache.keep_in_memory()
    worker = _worker_class(forking=not in_process)(
        queues,
        connection=queues[0].connection,
        maintenance_interval=MAINTENANCE_SECONDS,
        job_monitoring_interval=MONITOR_SECONDS,
    )
    log.info("worker starting", extra={"event": ",".join(names)})
    worker.work(burst=burst, with_scheduler=True, logging_level=c.settings.log_level)


def _supervise(groups: list[list[str]], burst: bool) -> int:
    """A worker process per group; one that dies is started again (unless stopping)."""
    children: dict[int, list[str]] = {}
    stopping = False

    def start(group: list[str]) -> None:
        pid = os.fork()
        if pid == 0:  # the child: RQ installs its own signal handlers when it starts
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                _serve(group, burst)
            except BaseException:
                log.exception("worker process failed")
                code = 1
            os._exit(code)
        children[pid] = group

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # RQ's warm shutdown: finish the current job

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C reaches every process of the group already: the parent only waits.
    signal.signal(signal.SIGINT, lambda _s, _f: None)
    for group in groups:
        start(group)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        group = children.pop(pid, None)
        if group is not None and _in_process(group, container().settings.single_queue):
            _hand_back_work_of(pid)
        if group is not None and not stopping and not burst:
            log.error("worker process exited; starting another", extra={"event": group[0]})
            time.sleep(1)
            start(group)
    return 0


def _hand_back_work_of(pid: int) -> int:
    """The job a dead in-process worker (``pid``, this host) was running, handed back to RQ
    as the forking worker does for a killed horse: retried while it has retries left, else
    failed (and its row with it). Without this RQ would only notice once the job's
    heartbeat lapsed (its timeout and a minute). Returns how many jobs were handed back."""
    from rq.job import Job

    from agency.jobs.queue import rq_queue

    handed = 0
    try:
        c = container()
        redis = c.redis()
        host = socket.gethostname()
        for worker in _worker_class(forking=False).all(connection=redis):
            if worker.pid != pid or worker.hostname != host:
                continue
            execution = worker.execution
            if execution is not None:
                job = Job.fetch(execution.job_id, connection=redis)
                queue = rq_queue(c.settings.redis_url or "", job.origin)
                worker.handle_job_failure(
                    job, queue, exc_string="its worker process died", execution=execution
                )
                log.error("job handed back", extra={"job_id": job.id, "event": "worker_died"})
                handed += 1
            worker.register_death()
    except Exception as error:  # RQ's own cleanup still catches the job once it lapses
        log.error("job not handed back", extra={"error_type": type(error).__name__})
    return handed


def main(argv: list[str] | None = None) -> int:
    """``agency-worker [--burst] [--together] [--queues payments matching webhooks]``."""
    from agency.jobs.queue import QUEUE_KINDS

    parser = argparse.ArgumentParser(prog="agency-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument(
        "--queues",
        nargs="+",
        choices=QUEUE_KINDS,
        default=list(QUEUE_KINDS),
        help="the kinds of work to serve (default: all, in priority order)",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="one process serving the queues in priority order, instead of one process per "
        "queue (a small machine; a slow partner receiver then holds up the other queues)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if not settings.redis_url:
        print("agency-worker needs REDIS_URL (without it jobs run inline)", file=sys.stderr)
        return 2
    c = container()
    sweep_jobs(c)  # rows written while Redis was down, and jobs RQ gave up on
    kinds = list(args.queues)
    if args.together or c.settings.single_queue or len(kinds) == 1:
        _serve(kinds, args.burst)
        return 0
    return _supervise([[kind] for kind in kinds], args.burst)


if __name__ == "__main__":
    raise SystemExit(main())
