"""Match jobs: rank providers for care requests in the background, and re-plan in batch.

A match run replaces the request's active suggestions in one transaction: a
worker killed half-way leaves the previous ranking intact, never half of a new
one, and running the same job twice gives the same result (idempotent).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select, union, update
from sqlalchemy.orm import Session

import matching
from agency.access import Scope
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
from agency.introductions.pools import agency_weights, london_today, request_spec
from agency.introductions.replan import plan_agency
from agency.jobs.models import JobRecord, JobStatus
from agency.jobs.queue import job, jobs_for, report_progress
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
    session: Session, care_request: CareRequest, pool: matching.ProviderPool, job_id: str | None
) -> list[Suggestion]:
    """Rank providers for one request and replace its active suggestions (no commit)."""
    agency = session.get(Agency, care_request.agency_id) if care_request.agency_id else None
    # Providers a manager set aside, and those already introduced: one round trip.
    excluded = set(
        session.scalars(
            union(
                select(Suggestion.provider_id).where(
                    Suggestion.care_request_id == care_request.id,
                    Suggestion.status == SuggestionStatus.REJECTED,
                ),
                select(Introduction.provider_id).where(
                    Introduction.care_request_id == care_request.id,
                    Introduction.status.in_(LIVE_INTRODUCTIONS),
                ),
            )
        )
    )
    spec = request_spec(care_request)
    ranked = matching.top_k(
        pool, spec, k=SUGGESTIONS_KEPT + len(excluded), weights=agency_weights(agency)
    )
    ranked = [s for s in ranked if s.provider_id not in excluded][:SUGGESTIONS_KEPT]
    retire_suggestions(session, care_request.id)
    stored = []
    for rank, suggestion in enumerate(ranked, start=1):
        explanation = {
            name: {k: _json_number(v) for k, v in asdict(part).items()}
            for name, part in suggestion.explanation.items()
        }
        row = Suggestion(
            id=new_id("sug"),
            care_request_id=care_request.id,
            provider_id=suggestion.provider_id,
            agency_id=care_request.agency_id,
            council_id=care_request.council_id,
            partner_client_id=care_request.partner_client_id,
            rank=rank,
            score=round(float(suggestion.score), 6),
            explanation=explanation,
            distance_km=explanation.get("distance", {}).get("raw"),
            job_id=job_id,
        )
        session.add(row)
        stored.append(row)
    if care_request.status is RequestStatus.OPEN and stored:
        care_request.status = RequestStatus.MATCHING
    return stored


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
    pool = AgencyPools(session, care_request.agency_id, london_today()).pool(
        care_request.start_date
    )
    with unit_of_work(session) as uow:
        stored = match_request(session, care_request, pool, record.id)
        uow.commit()
    return {
        "result_path": result_path,
        "suggestions": len(stored),
        "providers_considered": len(pool),
    }


@job(REMATCH_JOB)
def rematch_agency(
    session: Session, record: JobRecord, *, settings: Any, agency_id: str
) -> dict[str, Any]:
    requests = list(
        session.scalars(
            select(CareRequest)
            .where(CareRequest.agency_id == agency_id, CareRequest.status.in_(MATCHABLE))
            .order_by(CareRequest.created_at)
        )
    )
    loader = AgencyPools(session, agency_id, london_today())
    for i, care_request in enumerate(requests):
        with unit_of_work(session) as uow:
            match_request(session, care_request, loader.pool(care_request.start_date), record.id)
            uow.commit()  # one request at a time: each ranking is whole on its own
        if i % 20 == 19:
            report_progress(session, record, int(100 * (i + 1) / len(requests)))
    return {"result_path": None, "requests": len(requests)}


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
