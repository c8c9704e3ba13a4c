"""A match job on a worker ranks its agency's other queued match jobs' requests with its own.

When new requests come faster than one worker ranks them one job at a time, each job's
fixed costs (its transactions, the pool and weights read, statement building, RQ's own
bookkeeping) are most of its time, not the ranking. So a match job running on a worker
claims up to ``MATCH_BATCH`` other queued match jobs of its agency, oldest first
(``agency.jobs.queue.claim_queued``: their rows marked started in its transaction, rows
being started elsewhere skipped), and ranks every request in the one transaction it ranks
its own in: one read of the claimed requests, one of the providers kept out of each, the
weights once, the pool once per start date, one INSERT of all the suggestions, one UPDATE
of the requests ranked for the first time, each claimed job's row finished with its own
result (``ranked_with``: the job that ranked it), one commit. Each request's suggestions
carry its own job's id. Under light load nothing is queued behind a job and it runs alone,
as inline (``agency.introductions.match_jobs``).

On RQ the claimed jobs were never sent themselves: match jobs go as wakes of their agency
(``agency.jobs.queue.JobRunner.dispatch``, ``agency.worker.run_wake``), whose run leads
with the oldest queued job. A job that is delivered on its own (sent by the outbox sweep,
or retried after a failure) and was claimed meanwhile finds its row finished and returns
the stored result without running it (a delivery that comes mid-batch waits for the
row's lock, then sees it finished). If the batch rolls back, the claimed rows go back to
queued with it, and the next wake ranks them.

A claimed request that is closed, gone or unrouted is finished with the "skipped" result
its own job would give (and ``ranked_with``). One that was changed meanwhile (the first
ranking's UPDATE is checked against the version read, as a lone job's is) is left out: its
job is put back to queued, and a later wake of the agency ranks it as it now is; the
batch's other requests are not held back by it. The job's own request changed meanwhile
fails the job as a lone job's would (RQ retries it), and the claimed rows go back with the
rollback. A request now of another agency than its job's row says is put back as well:
its own run uses that agency's pool.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agency.db import insert_now
from agency.introductions.models import Suggestion
from agency.introductions.pool_cache import AgencyPools
from agency.introductions.pools import agency_weights_of
from agency.introductions.rankings import (
    MATCHABLE,
    Ranking,
    excluded_providers,
    mark_first_rankings,
    mark_ranked,
    rank_request,
    set_aside_earlier_ranking,
    suggestion_rows,
)
from agency.jobs.models import JobRecord
from agency.jobs.queue import claim_queued, finish_with, put_back
from agency.seekers.match_queue import MATCH_JOB
from agency.seekers.models import CareRequest, RequestStatus

log = logging.getLogger("agency.jobs")

# Claimed per job at most. At 10k providers a request costs ~6 ms in a batch (its ranking
# and explanations), against ~16 ms alone: the fixed costs are spread thin by 8 already.
# bench/bench_match_job.py --worker-jobs 600, interleaved runs on a 2-CPU machine under
# other load: 8, 16 and 32 drained 35-69, 68-93 and 64-70 jobs/s, one spread of noise
# (docs/performance.md). 16 keeps a batch's transaction, and so the wait of a delivery
# that meets it, near 100 ms.
MATCH_BATCH = 16


def result_path(care_request_id: str) -> str:
    return f"/care-requests/{care_request_id}/suggestions"


def skipped(care_request_id: str) -> dict[str, Any]:
    """What a match job gives for a request it cannot rank (closed, gone, unrouted)."""
    return {"result_path": result_path(care_request_id), "suggestions": 0, "skipped": True}


@dataclass
class _Batch:
    """The requests a leader ranks: its own first; the claimed jobs sorted out."""

    agency_id: str
    requests: dict[str, CareRequest]  # by id, the leader's first
    jobs_of: dict[str, list[str]]  # request id -> the jobs it ranks for (the first on rows)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # claimed job -> result
    given_back: list[str] = field(default_factory=list)  # claimed jobs put back to queued


def rank_with_queued(
    session: Session, record: JobRecord, care_request: CareRequest, loader: AgencyPools
) -> tuple[dict[str, Any], list[str]] | None:
    """Claim the agency's queued match jobs and rank their requests with ``care_request``
    in the caller's transaction (no commit), finishing every row there.

    Returns the leader's result and the claimed jobs finished, or None when none was
    queued (nothing written: the caller ranks its request alone).
    """
    agency_id = care_request.agency_id
    assert agency_id is not None  # the caller ranks routed requests only
    claimed = claim_queued(session, MATCH_JOB, agency_id, MATCH_BATCH)
    if not claimed:
        return None
    batch = _sort_out(session, record, care_request, claimed)
    rankings = _rank(session, batch, loader)
    _mark(session, batch, rankings, care_request.id, loader.generation)
    rows: list[Suggestion] = []
    for request_id, ranking in rankings.items():
        set_aside_earlier_ranking(session, batch.requests[request_id])
        rows += suggestion_rows(batch.requests[request_id], ranking, batch.jobs_of[request_id][0])
    if rows:
        insert_now(session, *rows)  # every request's suggestions in one INSERT
    results = _results(batch, rankings, loader, record.id)
    put_back(session, batch.given_back)
    mine = results.pop(record.id)
    finish_with(session, record, mine, others=results)
    return mine, list(results)


def log_finished(record: JobRecord, finished: list[str]) -> None:
    """After the commit: each claimed job finished, with the job that ranked it."""
    for job_id in finished:
        log.info(
            "job finished",
            extra={"job_id": job_id, "job_name": MATCH_JOB, "leader_job_id": record.id},
        )


def _sort_out(
    session: Session,
    record: JobRecord,
    care_request: CareRequest,
    claimed: list[tuple[str, dict[str, Any]]],
) -> _Batch:
    """Read the claimed jobs' requests (one SELECT) and sort the jobs: ranked here (several
    jobs of one request share its ranking), skipped, or given back."""
    agency_id = care_request.agency_id
    assert agency_id is not None
    wanted = {
        job_id: arguments.get("care_request_id") if isinstance(arguments, Mapping) else None
        for job_id, arguments in claimed
    }
    ids = {request_id for request_id in wanted.values() if isinstance(request_id, str)}
    found = {r.id: r for r in session.scalars(select(CareRequest).where(CareRequest.id.in_(ids)))}
    batch = _Batch(agency_id, {care_request.id: care_request}, {care_request.id: [record.id]})
    for job_id, request_id in wanted.items():
        if not isinstance(request_id, str):
            batch.given_back.append(job_id)  # not a request's job: its own run says so
            continue
        other = found.get(request_id)
        if other is None or other.agency_id is None or other.status not in MATCHABLE:
            batch.results[job_id] = skipped(request_id)
        elif other.agency_id != agency_id:
            batch.given_back.append(job_id)
        else:
            batch.requests.setdefault(other.id, other)
            batch.jobs_of.setdefault(other.id, []).append(job_id)
    return batch


def _rank(session: Session, batch: _Batch, loader: AgencyPools) -> dict[str, Ranking]:
    excluded = excluded_providers(session, list(batch.requests))
    weights = agency_weights_of(session, batch.agency_id)
    return {
        request_id: rank_request(
            session, request, loader.pool(request.start_date), excluded, weights
        )
        for request_id, request in batch.requests.items()
    }


def _mark(
    session: Session,
    batch: _Batch,
    rankings: dict[str, Ranking],
    own_request_id: str,
    generation: int,
) -> None:
    """Record the generation every ranking reflects; open requests become ``matching``,
    checked against the version read. A claimed request changed meanwhile leaves the
    batch (its jobs put back); the leader's own fails the job."""
    first = {
        request_id: batch.requests[request_id].version
        for request_id, ranking in rankings.items()
        if ranking and batch.requests[request_id].status is RequestStatus.OPEN
    }
    stale = set(first) - mark_first_rankings(session, first, generation)
    if own_request_id in stale:
        raise StaleDataError(f"care request {own_request_id} changed while it was ranked")
    for request_id in stale:
        del rankings[request_id]
        batch.given_back += batch.jobs_of.pop(request_id)
    mark_ranked(session, [r for r in rankings if r not in first], generation)


def _results(
    batch: _Batch, rankings: Mapping[str, Ranking], loader: AgencyPools, leader_id: str
) -> dict[str, dict[str, Any]]:
    """Every finished job's result, the leader's included (``ranked_with`` on the others)."""
    results = {job_id: {**done, "ranked_with": leader_id} for job_id, done in batch.results.items()}
    for request_id, ranking in rankings.items():
        request = batch.requests[request_id]
        done = {
            "result_path": result_path(request_id),
            "suggestions": len(ranking),
            "providers_considered": len(loader.pool(request.start_date)),
        }
        for job_id in batch.jobs_of[request_id]:
            results[job_id] = done if job_id == leader_id else {**done, "ranked_with": leader_id}
    return results
