"""Feedback after a confirmed visit, kept private.

- The seeker's side (their partner client) gives a 1-5 rating and optional text; the
  provider gives theirs (optional rating of the visit, text, a safety or access concern).
- A safeguarding concern goes to the manager's list and the audit log (as the fact of a
  concern: never the text, never the rating), never to the other party.
- Managers read their agency's feedback; a provider sees only the aggregate of the
  seeker-side ratings about them, and only once there are ``MIN_RATINGS_SHOWN``;
  partners and seekers never read ratings; auditors read none of it.
- Free text is seeker text (``agency.privacy``): erasure scrubs it; it is never logged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record
from agency.errors import Conflict, Forbidden, InvalidInput
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.unit_of_work import unit_of_work
from agency.visits.feedback_models import (
    Concern,
    FeedbackSide,
    ProviderRatingTotal,
    VisitFeedback,
)
from agency.visits.models import Visit, VisitStatus
from matching.features import shrunk_rating

MIN_RATINGS_SHOWN = 5


def give_feedback(
    session: Session, principal: Principal, visit_id: str, fields: dict[str, Any]
) -> VisitFeedback:
    """Record one side's feedback on a confirmed visit (once per side)."""
    with unit_of_work(session) as uow:
        visit = load(session, principal, Visit, visit_id, Action.WRITE)
        if principal.kind is Kind.PARTNER:
            side = FeedbackSide.SEEKER
            if fields.get("rating") is None:
                raise InvalidInput(errors={"rating": ["The seeker's feedback needs a rating."]})
        elif principal.kind is Kind.PROVIDER:
            side = FeedbackSide.PROVIDER
        else:
            raise Forbidden("Feedback comes from the seeker's partner or the visit's provider.")
        if visit.status is not VisitStatus.CONFIRMED:
            raise Conflict(
                "Feedback follows a confirmed visit.",
                code="visit_not_confirmed",
                current_status=visit.status.value,
            )
        given = select(VisitFeedback.id).where(
            VisitFeedback.visit_id == visit.id, VisitFeedback.side == side
        )
        if session.scalar(given) is not None:
            given = "This side has already given feedback on the visit."
            raise Conflict(given, code="feedback_given")
        arrangement = session.get(Arrangement, visit.arrangement_id)
        assert arrangement is not None
        concern = Concern(fields["concern"]) if fields.get("concern") else None
        feedback = VisitFeedback(
            id=new_id("fbk"),
            visit_id=visit.id,
            arrangement_id=visit.arrangement_id,
            provider_id=visit.provider_id,
            agency_id=visit.agency_id,
            council_id=visit.council_id,
            partner_client_id=visit.partner_client_id,
            seeker_id=arrangement.seeker_id,
            side=side,
            rating=fields.get("rating"),
            comment=fields.get("comment"),
            concern=concern,
            created_by=principal.id,
        )
        session.add(feedback)
        session.flush()
        action = (
            "visit_feedback.safeguarding_concern"
            if concern is Concern.SAFEGUARDING
            else "visit_feedback.recorded"
        )
        # The fact, not the content: no rating, no text (auditors read the audit log).
        record(
            session,
            principal,
            action,
            feedback,
            None,
            {"side": side.value, "concern": concern.value if concern else None},
        )
        uow.commit()
        return feedback


def feedback_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """The manager's view: their agency's feedback, newest first (safeguarding filterable)."""
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("Feedback is read by the agency's manager.")
    stmt = select(VisitFeedback).where(visible_to(VisitFeedback, principal))
    for name in ("concern", "provider_id", "side"):
        if filters.get(name):
            stmt = stmt.where(getattr(VisitFeedback, name) == filters[name])
    return stmt.order_by(VisitFeedback.created_at.desc(), VisitFeedback.id)


def rating_summary(session: Session, provider_id: str) -> tuple[int, float | None]:
    """(count, mean) of the seeker-side ratings of a provider, at every agency."""
    count, total = session.execute(
        select(
            func.sum(ProviderRatingTotal.ratings), func.sum(ProviderRatingTotal.rating_sum)
        ).where(ProviderRatingTotal.provider_id == provider_id)
    ).one()
    count = int(count or 0)
    return count, (float(total) / count if count else None)


def agency_ratings(session: Session, agency_id: str) -> tuple[dict[str, float], float | None]:
    """For the matcher: each rated provider's rating at the agency shrunk toward the
    agency's mean (``matching.features.shrunk_rating``), and that mean (what a provider
    with no ratings has); ``({}, None)`` when the agency has no ratings at all. Only these
    aggregates leave this module: never a single rating or who gave it."""

    # The kept totals (ProviderRatingTotal): one row per rated provider, not every rating.
    rows = session.execute(
        select(
            ProviderRatingTotal.provider_id,
            ProviderRatingTotal.ratings,
            ProviderRatingTotal.rating_sum,
        ).where(ProviderRatingTotal.agency_id == agency_id, ProviderRatingTotal.ratings > 0)
    ).all()
    count = sum(int(n) for _, n, _ in rows)
    if not count:
        return {}, None
    mean = sum(float(total) for _, _, total in rows) / count
    return {pid: shrunk_rating(float(total), int(n), mean) for pid, n, total in rows}, mean


def own_rating(session: Session, principal: Principal) -> dict[str, Any]:
    """A provider's own aggregate: the mean only once there are enough ratings."""
    if principal.kind is not Kind.PROVIDER or principal.provider_id is None:
        raise Forbidden("A rating summary is a provider's own.")
    count, mean = rating_summary(session, principal.provider_id)
    shown = count >= MIN_RATINGS_SHOWN
    return {
        "count": count,
        "average": round(mean, 2) if shown and mean is not None else None,
        "shown_from": MIN_RATINGS_SHOWN,
    }
