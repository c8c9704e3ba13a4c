"""What managers and partners may ask of the matcher: rankings, re-matches, why-not, plans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

import matching
from agency.access import Action, Kind, Principal, authorize, load, not_found
from agency.directory.models import Agency
from agency.errors import Conflict, Forbidden, NotFound
from agency.introductions.match_jobs import MATCHABLE, enqueue_match, enqueue_replan
from agency.introductions.models import MatchPlan, Suggestion, SuggestionStatus
from agency.introductions.pools import build_pool, request_spec
from agency.jobs.models import JobRecord
from agency.providers.models import Provider
from agency.seekers.models import CareRequest
from agency.state_machine import IllegalTransition
from agency.unit_of_work import unit_of_work

CONSTRAINT_TEXT = {
    "service_not_offered": "does not offer every requested service",
    "regulated_without_cqc": (
        "a requested service is CQC-regulated and the provider has no verified CQC registration"
    ),
    "not_approved_by_agency": "not approved by this agency",
    "suspended": "suspended",
    "compliance_expired": (
        "a required compliance item (DBS, insurance) is missing, unverified or expired "
        "on the start date"
    ),
    "not_isf_approved": (
        "not an ISF approved provider of this council, and the request is ISF-funded"
    ),
    "too_far": "the seeker is outside the provider's travel radius",
    "availability": "weekly availability does not cover the requested times",
    "no_capacity": "no spare weekly capacity for the hours",
    "rate_above_cap": "hourly rate above the request's maximum",
    "required_gender": "does not meet the seeker's required gender of provider",
    "required_language": "does not speak a language the seeker requires",
}


# Best first: the live ranking before set-aside ones, then by rank within a run. Rows of
# one run differ in created_at by microseconds, so a newest-first key must not lead.
BEST_FIRST = (
    case((Suggestion.status == SuggestionStatus.ACTIVE, 0), else_=1),
    Suggestion.rank,
    Suggestion.score.desc(),
    Suggestion.created_at.desc(),
    Suggestion.id,
)


def _staff_request(
    session: Session, principal: Principal, request_id: str, action: Action
) -> CareRequest:
    """A care request that only agency staff (and auditors, reading) may act on."""
    care_request = load(session, principal, CareRequest, request_id, action)
    if principal.kind is Kind.PARTNER:
        raise Forbidden(
            "Suggestions are for the agency's managers; partners see the matching status."
        )
    return care_request


def selected_suggestions(status: str) -> Any:
    """Join condition: the request's suggestions with ``status`` (``all``: every one)."""
    of_request = Suggestion.care_request_id == CareRequest.id
    if status == "all":
        return of_request
    return and_(of_request, Suggestion.status == SuggestionStatus(status))


def request_and_suggestions(
    session: Session, principal: Principal, request_id: str, status: str, *columns: Any
) -> list[Any]:
    """The request, authorised for reading, outer-joined to its selected suggestions (best
    first) in one round trip; ``columns`` ride along on every row. 404 when absent or hidden.
    """
    rows = session.execute(
        select(CareRequest, Suggestion, *columns)
        .outerjoin(Suggestion, selected_suggestions(status))
        .where(CareRequest.id == request_id)
        .order_by(*BEST_FIRST)
    ).all()
    if not rows:
        raise not_found(CareRequest, request_id)
    authorize(principal, Action.READ, rows[0][0])
    return list(rows)


def list_suggestions(
    session: Session, principal: Principal, request_id: str, status: str = "active"
) -> list[Suggestion]:
    rows = request_and_suggestions(session, principal, request_id, status)
    if principal.kind is Kind.PARTNER:
        raise Forbidden(
            "Suggestions are for the agency's managers; partners see the matching status."
        )
    return [suggestion for _, suggestion in rows if suggestion is not None]


def request_rematch(session: Session, principal: Principal, request_id: str) -> JobRecord:
    care_request = _staff_request(session, principal, request_id, Action.WRITE)
    if care_request.agency_id is None:
        raise Conflict(
            "No agency covers this request's area, so there is nobody to match.", code="unrouted"
        )
    if care_request.status not in MATCHABLE:
        raise IllegalTransition(
            f"The request is {care_request.status.value}; "
            "only open or matching requests are matched.",
            current_status=care_request.status.value,
        )
    with unit_of_work(session) as uow:
        record = enqueue_match(session, care_request)
        uow.commit()
    return record


def why_not(
    session: Session, principal: Principal, request_id: str, provider_id: str
) -> dict[str, object]:
    care_request = _staff_request(session, principal, request_id, Action.READ)
    if care_request.agency_id is None or session.get(Provider, provider_id) is None:
        raise NotFound(f"No provider with id {provider_id} is listed with this request's agency.")
    pool = build_pool(session, care_request.agency_id, care_request.start_date)
    if provider_id not in pool.row_of:
        raise NotFound(f"No provider with id {provider_id} is listed with this request's agency.")
    failed = matching.why_not(pool, request_spec(care_request), provider_id)
    return {
        "provider_id": provider_id,
        "eligible": not failed,
        "failed_constraints": failed,
        "descriptions": [CONSTRAINT_TEXT.get(code, code) for code in failed],
    }


def matching_status(session: Session, principal: Principal, request_id: str) -> dict[str, object]:
    care_request = load(session, principal, CareRequest, request_id, Action.READ)
    count = session.scalar(
        select(func.count()).where(
            Suggestion.care_request_id == request_id,
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
    )
    job = (
        session.get(JobRecord, care_request.last_match_job_id)
        if care_request.last_match_job_id
        else None
    )
    return {
        "care_request_id": care_request.id,
        "request_status": care_request.status.value,
        "routed": care_request.agency_id is not None,
        "suggestions": count,
        "last_job": {"id": job.id, "status": job.status.value, "status_url": f"/jobs/{job.id}"}
        if job
        else None,
    }


def request_replan(session: Session, principal: Principal, agency_id: str) -> JobRecord:
    agency = load(session, principal, Agency, agency_id, Action.WRITE)
    with unit_of_work(session) as uow:
        record = enqueue_replan(session, agency)
        uow.commit()
    return record


def get_plan(
    session: Session, principal: Principal, agency_id: str, plan_id: str | None
) -> MatchPlan:
    load(session, principal, Agency, agency_id, Action.READ)
    stmt = select(MatchPlan).where(MatchPlan.agency_id == agency_id)
    if plan_id:
        stmt = stmt.where(MatchPlan.id == plan_id)
    plan = session.scalar(stmt.order_by(MatchPlan.created_at.desc()).limit(1))
    if plan is None:
        raise NotFound("No match plan yet for this agency: POST one to run the batch re-plan.")
    return plan
