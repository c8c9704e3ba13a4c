"""Enqueue after commit; run on RQ (real Redis) or inline; keep each job's status in the database.

A job function is registered with :func:`job` under a stable name and receives
``(session, job_record, settings=..., **arguments)``; it may call
:func:`report_progress`, must commit its own work (``agency.unit_of_work``; the job
runs outside any unit of work, so its outermost one commits), and returns a dict (its
result) that may hold a ``result_path`` link. :func:`execute` is what runs it:
it marks the job started, runs it, and records finished or failed. RQ retries
failures with back-off; a job must therefore be idempotent. A job may also do the work
of queued jobs of its name and agency in its own transaction (:func:`claim_queued`; the
match job does): their deliveries then find their rows finished and do not run.

This package imports no domain module: domain modules register their jobs by
name, and the composition root (``agency.bootstrap``) imports them and decides
which queue each name goes to. Services reach the runner through the session
the composition root made (:func:`jobs_for`), never through Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Table, bindparam, literal_column, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from agency.access import Scope
from agency.config import Settings
from agency.db import after_commit, insert_now, utcnow
from agency.ids import new_id
from agency.jobs.models import JobRecord, JobStatus
from agency.unit_of_work import unit_of_work

log = logging.getLogger("agency.jobs")

JobFunction = Callable[..., dict[str, Any] | None]
_registry: dict[str, JobFunction] = {}
RETRY_INTERVALS = [5, 30, 120]  # seconds between RQ retries of a failed job
RQ_ENTRY = "agency.worker.run_job"  # what RQ executes: builds the composition root, then execute()
WAKE_ENTRY = "agency.worker.run_wake"  # what RQ executes for a wake of coalesced jobs
# How long an agency's wake mark lives: a wake that waits longer (a long queue ahead of
# it, or lost) lets the agency's next job send another; a second wake finds less to do.
WAKE_SECONDS = 60

# Queue kinds in the order a worker serves them: money first, partners' webhooks last,
# so a slow partner receiver can never hold up matching or a payment run.
QUEUE_KINDS = ("payments", "matching", "webhooks")
LATER = "-later"  # the suffix of a kind's queue of background work (Routes.later)
# What a failed job shows its reader (the full error goes to the log, with the job id).
FAILURE_MESSAGES = {
    "job_failed": "The job could not finish; it was logged for the operators.",
    "matching_failed": "Matching could not finish; it was logged for the operators.",
    "payment_failed": "The payment run could not finish; it was logged for the operators.",
}
_process_runner: JobRunner | None = None


def job(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under ``name`` (the name is what rows and RQ carry)."""

    def register(function: JobFunction) -> JobFunction:
        _registry[name] = function
        return function

    return register


def registered() -> frozenset[str]:
    return frozenset(_registry)


@dataclass(frozen=True)
class Routes:
    """Which queue and which failure code each job name gets (the composition root fills it)."""

    prefix: str = "agency"
    single_queue: bool = False
    kind_of: Mapping[str, str] = field(default_factory=dict)
    failure_code_of: Mapping[str, str] = field(default_factory=dict)
    default_kind: str = "matching"
    # Background work of its kind, e.g. re-matching an agency after a provider's change:
    # it goes to the kind's "later" queue, which the kind's worker serves only when the
    # kind's own queue is empty (RQ takes from the first non-empty queue, in order).
    later: frozenset[str] = frozenset()
    # Seconds RQ lets a job of the name run before it stops it (``job_timeout``); a name
    # not here gets RQ's default (180 s).
    timeout_of: Mapping[str, int] = field(default_factory=dict)
    # Jobs of an agency that one run does the work of together (:func:`claim_queued`): a
    # row of one is sent as a wake of its agency, at most one waiting at a time
    # (:meth:`JobRunner.dispatch`).
    coalesced: frozenset[str] = frozenset()

    def queue_of_kind(self, kind: str) -> str:
        return self.prefix if self.single_queue else f"{self.prefix}-{kind}"

    def queues_of_kinds(self, kinds: Sequence[str]) -> list[str]:
        """What a worker of ``kinds`` serves, in order: their queues, then their later ones."""
        firsts = [self.queue_of_kind(kind) for kind in kinds]
        laters = [] if self.single_queue else [f"{queue}{LATER}" for queue in firsts]
        return list(dict.fromkeys(firsts + laters))

    def queue_for(self, name: str) -> str:
        queue = self.queue_of_kind(self.kind_of.get(name, self.default_kind))
        return f"{queue}{LATER}" if name in self.later and not self.single_queue else queue

    def queue_names(self) -> list[str]:
        """Every queue, in the priority order a worker serves them."""
        return self.queues_of_kinds(QUEUE_KINDS)

    def failure_code(self, name: str) -> str:
        return self.failure_code_of.get(name, "job_failed")

    def job_timeout(self, name: str) -> int | None:
        return self.timeout_of.get(name)

    def wake_key(self, name: str, agency_id: str) -> str:
        """The Redis key that says a wake of the agency's ``name`` jobs is on its way."""
        return f"{self.prefix}:wake:{name}:{agency_id}"


@dataclass(frozen=True)
class JobRunner:
    """Where jobs go: a Redis queue, or this process right after commit."""

    settings: Settings
    sessions: sessionmaker[Session]
    routes: Routes = field(default_factory=Routes)

    def enqueue(
        self,
        session: Session,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        scope: Scope | None = None,
        job_id: str | None = None,
        with_new: tuple[object, ...] = (),
    ) -> JobRecord:
        """Record the job in this transaction; dispatch it once the transaction commits.

        ``with_new``: the caller's new objects (not yet in the database) whose rows go in
        with the job's, in one round trip (``agency.db.insert_now``).
        """
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
        insert_now(session, record, *with_new)  # rows in this transaction, no ORM flush
        # name and agency known: no read
        after_commit(session, lambda: self.dispatch(record.id, name, record.agency_id))
        return record

    def dispatch(self, job_id: str, name: str | None = None, agency_id: str | None = None) -> bool:
        """Send a recorded job to its queue (or run it here); False when Redis refused it.

        A job of a coalesced name (``Routes.coalesced``) with an agency is not sent itself:
        a wake of its agency is (:data:`WAKE_ENTRY`), unless one is on its way already,
        which Redis says in one SET NX. The wake's run clears that mark, then runs the
        agency's oldest queued job, which claims the others queued behind it. A row whose
        wake is lost (Redis flushed, the mark left to expire) is sent by the sweep.
        """
        if self.settings.inline_jobs:
            execute(job_id, self.sessions, self.settings, self.routes)
            return True
        if name is None:
            with self.sessions() as session:
                name = session.scalar(select(JobRecord.name).where(JobRecord.id == job_id))
        name = name or ""
        try:
            queue = rq_queue(self.settings.redis_url or "", self.routes.queue_for(name))
            if agency_id is not None and name in self.routes.coalesced:
                return self._wake(queue, name, agency_id)
            self._send(queue, RQ_ENTRY, (job_id,), job_id, name)
        except Exception as error:  # Redis down: the row says queued; the sweep resends it.
            log.error(
                "enqueue failed", extra={"job_id": job_id, "error_type": type(error).__name__}
            )
            return False
        return True

    def _wake(self, queue: Any, name: str, agency_id: str) -> bool:
        key = self.routes.wake_key(name, agency_id)
        wake_id = new_id("wake")
        if not queue.connection.set(key, wake_id, nx=True, ex=WAKE_SECONDS):
            return True  # a wake of the agency waits: its run claims this job with the rest
        try:
            self._send(queue, WAKE_ENTRY, (name, agency_id), wake_id, name)
        except Exception:
            queue.connection.delete(key)  # no wake went: the next job of the agency sends one
            raise
        return True

    def _send(self, queue: Any, entry: str, args: tuple[Any, ...], rq_id: str, name: str) -> None:
        from rq import Retry

        timeout = self.routes.job_timeout(name)
        options: dict[str, Any] = {} if timeout is None else {"job_timeout": timeout}
        # One pipeline, one round trip to Redis (RQ alone sends the queue's registration
        # and the job in two).
        with queue.connection.pipeline() as pipeline:
            queue.enqueue(
                entry,
                *args,
                job_id=rq_id,
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
                failure_ttl=7 * 24 * 3600,
                result_ttl=24 * 3600,
                pipeline=pipeline,
                **options,
            )
            pipeline.execute()

    def woken(self, name: str, agency_id: str) -> None:
        """At the start of a wake's run: clear the agency's mark, so that the next job
        committed sends a wake of its own."""
        try:
            queue = rq_queue(self.settings.redis_url or "", self.routes.queue_for(name))
            queue.connection.delete(self.routes.wake_key(name, agency_id))
        except Exception as error:  # the mark expires on its own; the sweep covers the gap
            log.error("wake not cleared", extra={"error_type": type(error).__name__})

    def oldest_queued(self, name: str, agency_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(_OLDEST_QUEUED, {"job_name": name, "agency": agency_id})


def run_job(job_id: str) -> dict[str, Any] | None:
    """The former RQ entry point, kept for existing callers: see ``agency.worker.run_job``."""
    from agency.worker import run_job as run_on_composition_root

    return run_on_composition_root(job_id)


def on_a_worker() -> bool:
    """Whether this code runs as an RQ job (not inline, after a commit in the caller)."""
    from rq import get_current_job

    return get_current_job() is not None


def others_waiting() -> bool:
    """Whether jobs wait that the running RQ job's worker would take before it: on its kind's
    own queue for a job from a later queue, else on its queue (False inline, or when Redis
    cannot say). A long job that runs in chunks gives the worker back when true."""
    from rq import Queue, get_current_job

    current = get_current_job()
    if current is None or not current.origin:
        return False
    try:
        first = Queue(current.origin.removesuffix(LATER), connection=current.connection)
        return bool(first.count)
    except Exception:  # Redis gone: finishing the chunk is the safe answer
        return False


def install_process_runner(runner: JobRunner) -> None:
    """The composition root names the runner of this process (for sessions it did not make)."""
    global _process_runner
    _process_runner = runner


def jobs_for(session: Session) -> JobRunner:
    """The job runner that belongs with ``session`` (set by the composition root)."""
    runner = session.info.get("jobs") or _process_runner
    if runner is None:
        raise RuntimeError("no job runner: build the process with agency.bootstrap first")
    return runner  # type: ignore[no-any-return]


def has_jobs(session: Session) -> bool:
    return "jobs" in session.info


@lru_cache(maxsize=16)
def rq_queue(redis_url: str, name: str) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(name, connection=Redis.from_url(redis_url))


def report_progress(session: Session, record: JobRecord, percent: int) -> None:
    """Progress is written in its own short transaction so readers see it mid-job.

    Called between a job's units of work (never inside one): it commits the session.
    """
    with unit_of_work(session) as uow:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == record.id)
            .values(progress=max(0, min(100, percent)))
        )
        uow.commit()


def mark_failed(sessions: sessionmaker[Session], job_id: str, code: str) -> None:
    """Record a job as failed with a stable code (never the exception's text)."""
    with sessions() as session, unit_of_work(session) as uow:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.status != JobStatus.FINISHED)
            .values(status=JobStatus.FAILED, error=code, ended_at=utcnow())
        )
        uow.commit()


_JOBS: Table = JobRecord.__table__  # type: ignore[assignment]
# The row marked started, and what the run needs read back, in one statement (a row
# already finished is left as it is: a redelivered job).
_START = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.status != JobStatus.FINISHED)
    .values(status=JobStatus.STARTED, started_at=bindparam("now"), attempts=_JOBS.c.attempts + 1)
    .returning(_JOBS.c.name, _JOBS.c.arguments, _JOBS.c.attempts)
)
# On PostgreSQL, the same with the row as it stood beside it, so that a redelivered job
# whose row is finished reads its result in that one statement. The row beside is read in
# the statement's snapshot: when the UPDATE waited for a transaction that held the row (a
# match job that claimed it, agency.introductions.match_batch) and then found it finished,
# the row beside is still the one from before, and the result is read again (:func:`_start`).
# A wake's run starts the job it picked only if it is still queued (no other run has it).
_START_QUEUED = _START.where(_JOBS.c.status == JobStatus.QUEUED)
_STARTED = _START.cte("started")
_START_OR_READ = (
    select(
        _STARTED.c.name,
        _STARTED.c.arguments,
        _STARTED.c.attempts,
        _JOBS.c.status.label("status_before"),
        _JOBS.c.result.label("result_before"),
    )
    .select_from(_JOBS.outerjoin(_STARTED, true()))
    .where(_JOBS.c.id == bindparam("job_id"))
)
_FINISH = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"))
    .values(
        status=JobStatus.FINISHED,
        progress=100,
        result=bindparam("result"),
        result_path=bindparam("result_path"),
        error=None,
        ended_at=bindparam("now"),
    )
)
# Queued jobs of one name and agency, oldest first. Served by the partial index
# ix_jobs_queued_agency_name_created (queued rows only).
_QUEUED_IN_ORDER = (
    select(_JOBS.c.id)
    .where(
        # Written out, not a parameter: PostgreSQL uses a partial index only for a query
        # whose condition it can see implies the index's, prepared plans included.
        _JOBS.c.status == literal_column(f"'{JobStatus.QUEUED.value}'"),
        _JOBS.c.agency_id == bindparam("agency"),
        _JOBS.c.name == bindparam("job_name"),
    )
    .order_by(_JOBS.c.created_at)
)
# Those to be marked started by the caller's transaction (a job already being started
# elsewhere holds its row's lock: skipped).
_CLAIMABLE = _QUEUED_IN_ORDER.limit(bindparam("most", type_=Integer)).with_for_update(
    skip_locked=True
)
# The oldest (what a wake runs first).
_OLDEST_QUEUED = _QUEUED_IN_ORDER.limit(1)
_CLAIM = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(_CLAIMABLE.scalar_subquery()))
    .values(status=JobStatus.STARTED, started_at=bindparam("now"), attempts=_JOBS.c.attempts + 1)
    .returning(_JOBS.c.id, _JOBS.c.arguments, _JOBS.c.created_at)
)
_PUT_BACK = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(bindparam("job_ids", expanding=True)))
    .values(status=JobStatus.QUEUED, started_at=None, attempts=_JOBS.c.attempts - 1)
)


def finish_with(
    session: Session,
    record: JobRecord,
    result: dict[str, Any],
    others: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Mark the job finished in the caller's transaction, which commits it with the job's
    work: for a job whose work is one transaction, one commit fewer, and never a window
    where the work is stored but the job not finished. :func:`execute` then writes nothing
    more (if the transaction rolls back instead, the job fails as usual).

    ``others``: jobs this one claimed (:func:`claim_queued`) and did the work of, by id,
    with each one's result: finished by the same statement (one executemany)."""
    now = utcnow()
    session.execute(
        _FINISH,
        [
            {"job_id": job_id, "result": done, "result_path": done.get("result_path"), "now": now}
            for job_id, done in {record.id: result, **(others or {})}.items()
        ],
    )
    record.status = JobStatus.FINISHED


def claim_queued(
    session: Session, name: str, agency_id: str, most: int
) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``most`` queued jobs ``name`` of the agency, oldest first, as (id, arguments),
    marked started (attempts counted) in the caller's transaction, which must finish each
    (:func:`finish_with`'s ``others``) or give it back (:func:`put_back`).

    RQ still holds each claimed job and delivers it later: :func:`execute` then finds its
    row finished and returns the result the claimant stored, without running it; a
    delivery that comes while the claimant's transaction is open waits for the row's lock
    (PostgreSQL), then finds it finished, or queued again if that transaction rolled back,
    and runs it. Rows another transaction holds (being started, or claimed) are skipped.
    On SQLite, which has one writer, the lock is the database's.
    """
    rows = session.execute(
        _CLAIM, {"job_name": name, "agency": agency_id, "most": most, "now": utcnow()}
    ).all()
    return [(job_id, arguments) for job_id, arguments, _ in sorted(rows, key=lambda r: r[2])]


def put_back(session: Session, job_ids: list[str]) -> None:
    """Undo :func:`claim_queued` for these jobs, in the same transaction: queued again, for
    their own delivery to run."""
    if job_ids:
        session.execute(_PUT_BACK, {"job_ids": job_ids})


def _start(
    session: Session, job_id: str, queued_only: bool = False
) -> tuple[Any, dict[str, Any] | None, bool]:
    """Mark the job's row started: ((name, arguments, attempt), None, True); or, when the
    row is finished already (a redelivery), (None, its result, True); (None, None, False)
    when there is no row. ``queued_only``: (None, None, True) when the row is not queued."""
    parameters = {"job_id": job_id, "now": utcnow()}
    if queued_only:
        started = session.execute(_START_QUEUED, parameters).one_or_none()
        return (tuple(started) if started else None), None, True
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_START_OR_READ, parameters).one_or_none()
        if row is None:
            return None, None, False
        if row.name is not None:
            return (row.name, row.arguments, row.attempts), None, True
        if row.status_before == JobStatus.FINISHED:
            return None, row.result_before, True
        # Finished while this statement waited for the row (see _START_OR_READ): read again.
    else:
        started = session.execute(_START, parameters).one_or_none()
        if started is not None:
            return tuple(started), None, True
    done = session.execute(select(_JOBS.c.result).where(_JOBS.c.id == job_id)).one_or_none()
    return None, (done.result if done is not None else None), done is not None


def execute(
    job_id: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    routes: Routes,
    queued_only: bool = False,
) -> dict[str, Any] | None:
    """Execute a recorded job (inline, in an RQ work horse, or in the matching worker itself).

    The row is marked started (its attempts counted) and finished by one Core statement
    each, in transactions of their own: a job's bookkeeping costs two round trips and no
    ORM load, which a match job of a few milliseconds would otherwise spend as much on. A
    job whose work is one transaction finishes its row in it (:func:`finish_with`): one
    commit fewer. A row found finished (RQ delivered the job again, or another job did its
    work: :func:`claim_queued`) is not run: its stored result is returned, read by the same
    statement on PostgreSQL, and nothing is written.
    The function gets the row as it started, detached (it reads its ``id``; progress goes
    through :func:`report_progress`). ``queued_only`` (a wake's run): a row no longer
    queued is left to whoever has it, and None returned.
    """
    with sessions() as session:
        with unit_of_work(session) as uow:
            started, done, found = _start(session, job_id, queued_only)
            if started is not None:
                uow.commit()  # else nothing was written: the transaction just ends
        if started is None:
            if not found:
                log.error("job row missing", extra={"job_id": job_id})
            return done  # finished: redelivered, already ran (or ranked by another job)
        name, arguments, attempt = started
        record = JobRecord(
            id=job_id, name=name, arguments=arguments, status=JobStatus.STARTED, attempts=attempt
        )
        log.info("job started", extra={"job_id": job_id, "job_name": name, "attempt": attempt})
        try:
            function = _registry[name]
            result = function(session, record, settings=settings, **arguments) or {}
        except Exception as error:
            session.rollback()
            code = routes.failure_code(name)
            mark_failed(sessions, job_id, code)
            log.error(
                "job failed",
                extra={
                    "job_id": job_id,
                    "job_name": name,
                    "error_type": type(error).__name__,
                    "event": code,
                },
                exc_info=True,  # the full error, for operators; readers of the job see the code
            )
            if not settings.inline_jobs:
                raise  # let RQ record the failure and schedule its retry
            return None
        if record.status is not JobStatus.FINISHED:  # not already by finish_with
            with unit_of_work(session) as uow:
                finish_with(session, record, result)
                uow.commit()
        log.info("job finished", extra={"job_id": job_id, "job_name": name})
        return result
