"""Match jobs: rank providers for care requests in the background, and re-plan in batch.

A match run replaces the request's active suggestions in one transaction: a
worker killed half-way leaves the previous ranking intact, never half of a new
one, and running the same job twice gives the same result (idempotent).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Select, Table, delete, or_, select, union, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import matching
from agency.access import Scope
from agency.db import commit_without_waiting_for_disk, insert_now, utcnow
from agency.directory.models import Agency
from agency.ids import new_id
from agency.introductions.models import (
    Introduction,
    IntroductionStatus,
    MatchPlan,
    Suggestion,
    SuggestionStatus,
)
from agency.introductions.pool_cache import AgencyPools
from agency.introductions.pools import agency_weights_of, london_today, request_spec
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
SUGGESTIONS_KEPT = 20
MATCHABLE = (RequestStatus.OPEN, RequestStatus.MATCHING)
LIVE_INTRODUCTIONS = (IntroductionStatus.AWAITING_PROVIDER, IntroductionStatus.AWAITING_SEEKER)


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
    ranking = rank_request(session, care_request, pool, _excluded(session, [care_request.id]))
    return store_ranking(session, care_request, ranking, job_id)


def _excluded(session: Session, request_ids: list[str]) -> dict[str, set[str]]:
    """Each request's providers a manager set aside or already introduced: one round trip."""
    rows = session.execute(
        union(
            select(Suggestion.care_request_id, Suggestion.provider_id).where(
                Suggestion.care_request_id.in_(request_ids),
                Suggestion.status == SuggestionStatus.REJECTED,
            ),
            select(Introduction.care_request_id, Introduction.provider_id).where(
                Introduction.care_request_id.in_(request_ids),
                Introduction.status.in_(LIVE_INTRODUCTIONS),
            ),
        )
    )
    excluded: dict[str, set[str]] = {request_id: set() for request_id in request_ids}
    for request_id, provider_id in rows:
        excluded[request_id].add(provider_id)
    return excluded


def rank_request(
    session: Session,
    care_request: CareRequest,
    pool: matching.ProviderPool,
    excluded: Mapping[str, set[str]],
    weights: matching.Weights | None = None,
) -> list[tuple[str, float, dict[str, dict[str, float | None]]]]:
    """The request's ranking as it would be stored: (provider id, score, explanation).

    ``weights``: the agency's (read from it when not given).
    """
    if weights is None:
        weights = agency_weights_of(session, care_request.agency_id)
    out = excluded.get(care_request.id, set())
    ranked = matching.top_k(
        pool, request_spec(care_request), k=SUGGESTIONS_KEPT + len(out), weights=weights
    )
    return [
        (
            suggestion.provider_id,
            round(float(suggestion.score), 6),
            {name: _explained(part) for name, part in suggestion.explanation.items()},
        )
        for suggestion in ranked
        if suggestion.provider_id not in out
    ][:SUGGESTIONS_KEPT]


def _explained(part: matching.FeatureExplanation) -> dict[str, float | None]:
    """One feature's part as stored (``dataclasses.asdict`` deep-copied each float: it was
    most of a re-match's time)."""
    return {
        "raw": _json_number(part.raw),
        "normalised": _json_number(part.normalised),
        "weight": _json_number(part.weight),
        "contribution": _json_number(part.contribution),
    }


def store_ranking(
    session: Session,
    care_request: CareRequest,
    ranking: list[tuple[str, float, dict[str, dict[str, float | None]]]],
    job_id: str | None,
) -> list[Suggestion]:
    """Replace the request's active suggestions with ``ranking`` (no commit).

    The request's status is the caller's to move: an open request with a ranking becomes
    ``matching`` (:func:`_mark_ranked_and_matching`, or the re-match's own assignment).
    """
    if care_request.ranked_generation is not None:
        # Ranked before: set that ranking aside. A request never ranked has no suggestion
        # (every ranking is stored with its generation, in one transaction; the migration
        # that added the column gave every older request one), so its first job skips this.
        retire_suggestions(session, care_request.id)
    stored = []
    for rank, (provider_id, score, explanation) in enumerate(ranking, start=1):
        row = Suggestion(
            id=new_id("sug"),
            care_request_id=care_request.id,
            provider_id=provider_id,
            agency_id=care_request.agency_id,
            council_id=care_request.council_id,
            partner_client_id=care_request.partner_client_id,
            rank=rank,
            score=score,
            explanation=explanation,
            distance_km=explanation.get("distance", {}).get("raw"),
            job_id=job_id,
        )
        stored.append(row)
    if stored:
        insert_now(session, *stored)  # one INSERT of the rows, not the ORM's flush of 20
    return stored


def _mark_ranked_and_matching(session: Session, care_request: CareRequest, generation: int) -> None:
    """An open request's first ranking: ``matching`` and ranked at ``generation``, in one
    UPDATE checked against the version this job read, as the ORM's flush of the status
    would have been (a change made meanwhile fails the job, and RQ's retry ranks it anew)."""
    version = care_request.version
    changed = session.execute(
        update(_REQUESTS)
        .where(_REQUESTS.c.id == care_request.id, _REQUESTS.c.version == version)
        .values(status=RequestStatus.MATCHING, version=version + 1, ranked_generation=generation)
    ).rowcount
    if changed != 1:
        raise StaleDataError(f"care request {care_request.id} changed while it was ranked")


def _mark_ranked(session: Session, request_ids: list[str], generation: int) -> None:
    """Record the pool generation the requests' rankings now reflect (a Core UPDATE: it is
    bookkeeping, not a change of the request, so its ``version`` stays)."""
    if request_ids:
        session.execute(
            update(_REQUESTS)
            .where(_REQUESTS.c.id.in_(request_ids))
            .values(ranked_generation=generation)
        )


_REQUESTS: Table = CareRequest.__table__  # type: ignore[assignment]


def retire_suggestions(session: Session, care_request_id: str) -> None:
    """Set the request's active ranking aside before a new one is stored.

    The active suggestions become superseded; superseded ones that nobody acted on
    (no introduction points at them) are deleted, so the table holds the live ranking
    and what managers acted on, not every ranking ever made. The request's first
    suggestion stays: the funnel measures the time to it.
    """
    session.execute(
        update(Suggestion)
        .where(
            Suggestion.care_request_id == care_request_id,
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
        .values(status=SuggestionStatus.SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    first = (
        select(Suggestion.id)
        .where(Suggestion.care_request_id == care_request_id)
        .order_by(Suggestion.created_at, Suggestion.id)
        .limit(1)
        .scalar_subquery()
    )
    acted_on = select(Introduction.suggestion_id).where(
        Introduction.care_request_id == care_request_id,
        Introduction.suggestion_id.is_not(None),
    )
    session.execute(
        delete(Suggestion)
        .where(
            Suggestion.care_request_id == care_request_id,
            Suggestion.status == SuggestionStatus.SUPERSEDED,
            Suggestion.id != first,
            Suggestion.id.not_in(acted_on),
        )
        .execution_options(synchronize_session=False)
    )


def _json_number(value: float) -> float | None:
    """JSON (and PostgreSQL) has no NaN: a feature with no data (no reliability history) is null."""
    return round(float(value), 6) if math.isfinite(value) else None


@job(MATCH_JOB)
def match_care_request(
    session: Session, record: JobRecord, *, settings: Any, care_request_id: str
) -> dict[str, Any]:
    care_request = session.get(CareRequest, care_request_id)
    result_path = f"/care-requests/{care_request_id}/suggestions"
    if (
        care_request is None
        or care_request.agency_id is None
        or care_request.status not in MATCHABLE
    ):
        return {"result_path": result_path, "suggestions": 0, "skipped": True}
    # No mid-way progress write: the whole job is a few round trips (bench/bench_match_job.py).
    loader = AgencyPools(session, care_request.agency_id, london_today())
    pool = loader.pool(care_request.start_date)
    with unit_of_work(session) as uow:
        # A ranking is derived data the job makes again: its commit need not wait for the
        # disk (a database crash just after it loses it like a rollback; the row stays
        # started, the outbox sweep sends the job again once RQ has forgotten it, and the
        # hourly re-plan ranks open requests anyway). The job's row is finished in the same
        # transaction: one commit per job instead of two.
        commit_without_waiting_for_disk(session)
        stored = match_request(session, care_request, pool, record.id)
        if care_request.status is RequestStatus.OPEN and stored:
            _mark_ranked_and_matching(session, care_request, loader.generation)
        else:
            _mark_ranked(session, [care_request.id], loader.generation)
        result = {
            "result_path": result_path,
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
        _mark_ranked(session, checked, generation)
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
        excluded = _excluded(session, group)
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
