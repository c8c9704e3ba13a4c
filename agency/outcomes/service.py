"""Recording ONS4 answers: by the seeker's partner or the agency's manager, with consent.

Only with the seeker's current consent to the ``outcomes`` purpose (409 otherwise); one
baseline per arrangement; every answer optional, but at least one given. Providers may know
the arrangement but not record or read its outcomes (403); auditors see only the report's
aggregates (403); anyone else gets 404, as for an arrangement that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, authorize, load
from agency.errors import Conflict, Forbidden, InvalidInput
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.outcomes.models import MEASURES, Occasion, RecordedBy, WellbeingAssessment
from agency.seekers.models import CareSeeker
from agency.seekers.service import current_consent, require_not_erased
from agency.unit_of_work import unit_of_work

PURPOSE = "outcomes"


class OutcomesConsentRequired(Conflict):
    code = "consent_required"
    message = "The care seeker has not consented to wellbeing outcomes being recorded."


class BaselineExists(Conflict):
    code = "baseline_exists"
    message = "This arrangement already has a baseline; record a review instead."


class AggregatesOnly(Forbidden):
    code = "aggregates_only"
    message = "Wellbeing answers are recorded by the seeker's partner or the agency's manager."


def _arrangement(session: Session, principal: Principal, arrangement_id: str) -> Arrangement:
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    if principal.kind in (Kind.PROVIDER, Kind.AUDITOR):
        raise AggregatesOnly()
    authorize(principal, Action.WRITE, arrangement)
    return arrangement


def new_assessment(
    arrangement: Arrangement,
    occasion: Occasion,
    assessed_on: dt.date,
    recorded_by: RecordedBy,
    **answers: int | None,
) -> WellbeingAssessment:
    """An (unsaved) set of ONS4 answers for ``arrangement``'s seeker, scoped like it."""
    return WellbeingAssessment(
        id=new_id("wba"),
        arrangement_id=arrangement.id,
        seeker_id=arrangement.seeker_id,
        agency_id=arrangement.agency_id,
        council_id=arrangement.council_id,
        partner_client_id=arrangement.partner_client_id,
        occasion=occasion,
        assessed_on=assessed_on,
        recorded_by=recorded_by,
        **answers,
    )


def record_assessment(
    session: Session,
    principal: Principal,
    arrangement_id: str,
    *,
    occasion: Occasion,
    assessed_on: dt.date,
    answers: dict[str, int | None],
) -> WellbeingAssessment:
    """Record one set of ONS4 answers for an arrangement's seeker."""
    arrangement = _arrangement(session, principal, arrangement_id)
    seeker = session.get(CareSeeker, arrangement.seeker_id)
    assert seeker is not None
    require_not_erased(seeker)
    consent = current_consent(seeker)
    if consent is None or PURPOSE not in consent.purposes:
        raise OutcomesConsentRequired()
    if all(answers.get(m) is None for m in MEASURES):
        raise InvalidInput(errors={"_schema": ["Give at least one of the four answers."]})
    if occasion is Occasion.BASELINE and session.scalar(
        select(WellbeingAssessment.id).where(
            WellbeingAssessment.arrangement_id == arrangement.id,
            WellbeingAssessment.occasion == Occasion.BASELINE,
        )
    ):
        raise BaselineExists()
    assessment = new_assessment(
        arrangement,
        occasion,
        assessed_on,
        RecordedBy(principal.kind.value),
        **{m: answers.get(m) for m in MEASURES},
    )
    with unit_of_work(session) as uow:
        session.add(assessment)
        uow.commit()
    return assessment


def assessments_of(
    session: Session, principal: Principal, arrangement_id: str
) -> list[WellbeingAssessment]:
    """The arrangement's answers, oldest first (its partner, its agency's managers)."""
    arrangement = _arrangement(session, principal, arrangement_id)
    return list(
        session.scalars(
            select(WellbeingAssessment)
            .where(WellbeingAssessment.arrangement_id == arrangement.id)
            .order_by(WellbeingAssessment.assessed_on, WellbeingAssessment.created_at)
        )
    )


def delete_for_seeker(session: Session, seeker_id: str) -> int:
    """Erasure: the seeker's answers go entirely (scores are about them, nothing to keep)."""
    from sqlalchemy import delete

    result: Any = session.execute(
        delete(WellbeingAssessment).where(WellbeingAssessment.seeker_id == seeker_id)
    )
    return int(result.rowcount or 0)
