"""Match jobs: rank providers for care requests in the background, and re-plan in batch.

A match run replaces the request's active suggestions in one transaction: a
worker killed half-way leaves the previous ranking intact, never half of a new
one, and running the same job twice gives the same result (idempotent). On a worker, a
match job ranks the other queued match jobs of its agency in that transaction too
(``agency.introductions.match_batch``); inline, each job runs alone right after the
commit that queued it. How a ranking is made and stored: ``agency.introductions.rankings``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

import matching
from agency.access import Scope
from agency.db import commit_without_waiting_for_disk, utcnow
from agency.directory.models import Agency
from agency.ids import new_id
from agency.introductions import match_batch
from agency.introductions.models import MatchPlan, Suggestion, SuggestionStatus
from agency.introductions.pool_cache import AgencyPools
from agency.introductions.pools import agency_weights_of, london_today
from agency.introductions.rankings import MATCHABLE as MATCHABLE
from agency.introductions.rankings import SUGGESTIONS_KEPT as SUGGESTIONS_KEPT
from agency.introductions.rankings import (
    excluded_providers,
    mark_ranked,
    mark_ranked_and_matching,
    rank_request,
    store_ranking,
)
from agency.introductions.replan import plan_agency
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import (
    finish_with,
    job,
    jobs_for,
    on_a_worker,
    others_waiting,
    report_progress,
)
from agency.seekers.match_queue import MATCH_JOB
from agency.seekers.match_queue import enqueue_match as enqueue_match
from agency.seekers.models import CareRequest, RequestStatus
from agency.unit_of_work import unit_of_work

REMATCH_JOB = "rematch_agency"
PLAN_JOB = "replan_agency"


def enqueue_rematch_for_agencies(session: Session, agency_ids: list[str]) -> list[JobRecord]:
    """A provider changed: re-match the open requests of its agencies, debounced.

    A change finds a re-match of its agency still queued and leaves it at that: that job
    has not started, so it will read this change. It touches the queued job's row, which
    holds that job's start (``execute`` marks it started with an UPDATE of the same row)
    until this transaction commits, so the job cannot slip past the change unseen. A job
    already started or finished gets a new one queued behind it: no change is dropped.
    Concurrent changes of one agency are ordered by the pool-generation upsert
    (``pool_cache.bump_generation``) that provider_inputs_changed makes first; should two
    transactions still both queue one, the ids are fresh, so both commit (a spare re-match,
    never an IntegrityError that loses the user's write).
    """
    runner = jobs_for(session)
    records = []
    for agency_id in sorted(set(agency_ids)):
        waiting = session.execute(
            update(JobRecord)
            .where(
                JobRecord.name == REMATCH_JOB,
                JobRecord.agency_id == agency_id,
                JobRecord.status == JobStatus.QUEUED,
            )
            .values(progress=0)
            .execution_options(synchronize_session=False)
        ).rowcount
        if waiting:
            continue
        records.append(
            runner.enqueue(
                session,
                REMATCH_JOB,
                {"agency_id": agency_id},
                scope=Scope.of(agency_ids=[agency_id]),
            )
        )
    return records


def enqueue_replan(session: Session, agency: Agency) -> JobRecord:
    runner = jobs_for(session)
    return runner.enqueue(
        session,
        PLAN_JOB,
        {"agency_id": agency.id},
        scope=Scope.of(agency_ids=[agency.id], council_ids=[agency.council_id]),
    )


def match_request(
    session: Session,
    care_request: CareRequest,
    pool: matching.ProviderPool,
    job_id: str | None,
) -> list[Suggestion]:
    """Rank providers for one request and replace its active suggestions (no commit)."""
    excluded = excluded_providers(session, [care_request.id])
    ranking = rank_request(session, care_request, pool, excluded)
    return store_ranking(session, care_request, ranking, job_id)


@job(MATCH_JOB)
def match_care_request(
    session: Session, record: JobRecord, *, settings: Any, care_request_id: str
) -> dict[str, Any]:
    care_request = session.get(CareRequest, care_request_id)
    if (
        care_request is None
        or care_request.agency_id is None
        or care_request.status not in MATCHABLE
    ):
        return match_batch.skipped(care_request_id)
    # No mid-way progress write: the whole job is a few round trips (bench/bench_match_job.py).
    loader = AgencyPools(session, care_request.agency_id, london_today())
    with unit_of_work(session) as uow:
        # A ranking is derived data the job makes again: its commit need not wait for the
        # disk (a database crash just after it loses it like a rollback; the row stays
        # started, the outbox sweep sends the job again once RQ has forgotten it, and the
        # hourly re-plan ranks open requests anyway). The job's row is finished in the same
        # transaction: one commit per job instead of two.
        commit_without_waiting_for_disk(session)
        # On a worker, match jobs of the agency queued behind this one are ranked with it.
        # Inline, none waits: each runs right after the commit that queued it.
        batch = (
            match_batch.rank_with_queued(session, record, care_request, loader)
            if on_a_worker()
            else None
        )
        if batch is not None:
            uow.commit()
            match_batch.log_finished(record, batch[1])
            return batch[0]
        pool = loader.pool(care_request.start_date)
        stored = match_request(session, care_request, pool, record.id)
        if care_request.status is RequestStatus.OPEN and stored:
            mark_ranked_and_matching(session, care_request, loader.generation)
        else:
            mark_ranked(session, [care_request.id], loader.generation)
        result = {
            "result_path": match_batch.result_path(care_request_id),
            "suggestions": len(stored),
            "providers_considered": len(pool),
        }
        finish_with(session, record, result)
        uow.commit()
    return result


@job(REMATCH_JOB)
def rematch_agency(
    session: Session, record: JobRecord, *, settings: Any, agency_id: str
) -> dict[str, Any]:
    """Re-rank the agency's open requests ranked before its pool's current generation.

    Stalest first, for at most ``REMATCH_BUDGET`` of the worker's time, and only until
    another job waits on its queue (a new request's match): when requests are left, the
    job queues its continuation (debounced like a provider's change) behind the jobs
    waiting, so a new request waits for one slice of re-ranking, not the whole agency's.
    A change during the run raises the generation, so the continuation (or
    the job the change queued) checks every request again, oldest ranking first: none is
    skipped and none starves. A ranking that comes out as stored is left as it is (its
    rows, ids and job); only the generation it was checked against is recorded.
    """
    started = time.monotonic()
    loader = AgencyPools(session, agency_id, london_today())
    generation = loader.generation
    weights = agency_weights_of(session, agency_id)
    stale = list(session.scalars(_stale_requests(agency_id, generation)))
    checked: list[str] = []
    rewritten, cut_short = 0, False
    with unit_of_work(session) as uow:
        for care_request, excluded, stored in _with_rankings(session, stale):
            pool = loader.pool(care_request.start_date)
            ranking = rank_request(session, care_request, pool, excluded, weights)
            if ranking != stored:
                store_ranking(session, care_request, ranking, record.id)
                rewritten += 1
            if care_request.status is RequestStatus.OPEN and ranking:
                care_request.status = RequestStatus.MATCHING
            checked.append(care_request.id)
            if _time_to_yield(time.monotonic() - started):
                cut_short = True
                break
        mark_ranked(session, checked, generation)
        left = (cut_short and checked[-1] != stale[-1]) or len(stale) == REMATCH_BATCH
        if left:
            enqueue_rematch_for_agencies(session, [agency_id])
        uow.commit()  # the chunk's rankings at once: each whole, or none of them
    return {"result_path": None, "requests": len(checked), "rewritten": rewritten, "more": left}


# A chunk of re-ranking gives the worker back after REMATCH_BUDGET, or as soon as another
# job waits (a new request's match). A minimum slice before yielding was tried (50 ms): new
# requests then waited for it, and at 30 a second their queue grew (docs/performance.md).
REMATCH_BUDGET = dt.timedelta(milliseconds=250)
REMATCH_BATCH = 500  # stale requests listed per chunk (the budget usually ends it first)
REMATCH_GROUP = 10  # requests read (with their rankings) per round trip
# A request unranked this long after it was made lost its own match job (the job sweep
# resends a job Redis never got after 30 s): a re-match ranks it.
UNRANKED_GRACE = dt.timedelta(minutes=2)


def _with_rankings(
    session: Session, request_ids: list[str]
) -> Iterator[tuple[CareRequest, dict[str, set[str]], list[tuple[str, float, dict[str, Any]]]]]:
    """Each request with the providers kept out of its ranking and its stored ranking, read
    a few requests at a time: a chunk cut short reads little more than it ranks."""
    for at in range(0, len(request_ids), REMATCH_GROUP):
        group = request_ids[at : at + REMATCH_GROUP]
        by_id = {
            r.id: r for r in session.scalars(select(CareRequest).where(CareRequest.id.in_(group)))
        }
        excluded = excluded_providers(session, group)
        stored = _active_rankings(session, group)
        for request_id in group:
            care_request = by_id.get(request_id)
            if care_request is not None and care_request.status in MATCHABLE:  # not closed since
                yield care_request, excluded, stored.get(request_id, [])


def _time_to_yield(elapsed_seconds: float) -> bool:
    if not on_a_worker():
        # Inline (no Redis): the caller waits for all of it anyway, and a continuation
        # would run nested in this job's commit, holding a connection per chunk.
        return False
    return elapsed_seconds >= REMATCH_BUDGET.total_seconds() or others_waiting()


def _stale_requests(agency_id: str, generation: int) -> Select[tuple[str]]:
    """Open requests ranked before ``generation``, the stalest first.

    A request never ranked has its own match job on its way (queued after the commit that
    made it); past ``UNRANKED_GRACE`` that job was lost, and the re-match ranks it.
    """
    unranked = CareRequest.ranked_generation.is_(None)
    return (
        select(CareRequest.id)
        .where(
            CareRequest.agency_id == agency_id,
            CareRequest.status.in_(MATCHABLE),
            or_(
                CareRequest.ranked_generation < generation,
                unranked & (CareRequest.created_at < utcnow() - UNRANKED_GRACE),
            ),
        )
        .order_by(
            CareRequest.ranked_generation.is_not(None),
            CareRequest.ranked_generation,
            CareRequest.created_at,
            CareRequest.id,
        )
        .limit(REMATCH_BATCH)
    )


def _active_rankings(
    session: Session, request_ids: list[str]
) -> dict[str, list[tuple[str, float, dict[str, Any]]]]:
    """The requests' active suggestions, in rank order, as ``rank_request`` answers them."""
    rankings: dict[str, list[tuple[str, float, dict[str, Any]]]] = {}
    rows = session.execute(
        select(
            Suggestion.care_request_id,
            Suggestion.provider_id,
            Suggestion.score,
            Suggestion.explanation,
        )
        .where(
            Suggestion.care_request_id.in_(request_ids),
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
        .order_by(Suggestion.care_request_id, Suggestion.rank)
    )
    for request_id, provider_id, score, explanation in rows:
        rankings.setdefault(request_id, []).append((provider_id, score, explanation))
    return rankings


@job(PLAN_JOB)
def replan_agency(
    session: Session, record: JobRecord, *, settings: Any, agency_id: str
) -> dict[str, Any]:
    agency = session.get(Agency, agency_id)
    if agency is None:
        return {"skipped": True}
    report_progress(session, record, 10)
    with unit_of_work(session) as uow:
        planned = plan_agency(session, agency)  # see agency.introductions.replan
        figures = planned.figures
        plan = MatchPlan(
            id=new_id("pln"),
            agency_id=agency.id,
            council_id=agency.council_id,
            figures=figures,
            placements=planned.placements,
            job_id=record.id,
        )
        session.add(plan)
        uow.commit()
    return {
        "result_path": f"/agencies/{agency_id}/match-plans/{plan.id}",
        "plan_id": plan.id,
        **figures,
    }
