"""Erasing a care seeker (UK GDPR art. 17) across every domain that holds something of them.

What goes: every column :data:`agency.privacy.TEXT_COLUMNS` classifies as seeker text, in
every row that belongs to the seeker (:func:`seeker_rows` says which rows those are).
What stops: live requests are withdrawn, pending introductions withdrawn and active or
paused arrangements ended, each with the reason "erased" and its own audit entry, so no
new visit can be logged. What stays: ids, outcodes, statuses, dates and every money record
(invoices, journal entries, payouts: pence and ids), and one audit entry for the erasure.
The audit trail itself never held the text (free text is hashed when recorded).

Orchestrates several domains, so it lives beside them rather than inside ``seekers``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal, select, update
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.activities.service import delete_for_seeker as delete_activity_referrals
from agency.audit.service import record
from agency.db import Base, utcnow
from agency.equality.service import delete_for_seeker as delete_equality_monitoring
from agency.introductions.events import arrangement_event
from agency.introductions.models import (
    Arrangement,
    ArrangementStatus,
    ArrangementVersion,
    Introduction,
    IntroductionStatus,
    Suggestion,
)
from agency.introductions.request_status import set_request_status
from agency.isf.models import IsfAccount
from agency.outcomes.service import delete_for_seeker as delete_wellbeing
from agency.privacy import seeker_text_columns
from agency.seekers.lifecycle import LIVE_STATUSES
from agency.seekers.models import CareRequest, CareSeeker, RequestStatus
from agency.visits.feedback_models import VisitFeedback
from agency.visits.models import Timesheet, Visit
from agency.visits.planned_models import PlannedVisit

REASON = "erased"
PENDING_INTRODUCTIONS = (IntroductionStatus.AWAITING_PROVIDER, IntroductionStatus.AWAITING_SEEKER)
LIVE_ARRANGEMENTS = (ArrangementStatus.ACTIVE, ArrangementStatus.PAUSED)


def seeker_rows(seeker_id: str) -> dict[str, ColumnElement[bool]]:
    """table -> the WHERE clause picking that table's rows belonging to the seeker."""
    requests = select(CareRequest.id).where(CareRequest.seeker_id == seeker_id)
    arrangements = select(Arrangement.id).where(Arrangement.seeker_id == seeker_id)
    return {
        "care_seekers": CareSeeker.id == seeker_id,
        "care_requests": CareRequest.seeker_id == seeker_id,
        "suggestions": Suggestion.care_request_id.in_(requests),
        "introductions": Introduction.care_request_id.in_(requests),
        "arrangements": Arrangement.seeker_id == seeker_id,
        "arrangement_versions": ArrangementVersion.arrangement_id.in_(arrangements),
        "visits": Visit.arrangement_id.in_(arrangements),
        "timesheets": Timesheet.arrangement_id.in_(arrangements),
        "planned_visits": PlannedVisit.arrangement_id.in_(arrangements),
        "visit_feedback": VisitFeedback.arrangement_id.in_(arrangements),
        "isf_accounts": IsfAccount.seeker_id == seeker_id,
    }


def _scrubbed(table: str, column: str, seeker_id: str) -> Any:
    """What an erased value becomes: NULL, or a neutral value where the column needs one."""
    if (table, column) == ("care_seekers", "reference"):  # NOT NULL, unique per partner
        return literal(f"erased-{seeker_id}")
    model_column = Base.metadata.tables[table].c[column]
    if not model_column.nullable:
        return {} if column == "preferences" else ""
    return None


def erase(session: Session, principal: Principal, seeker: CareSeeker) -> dict[str, int]:
    """Erase ``seeker`` in the caller's transaction (the caller checked the rights); counts."""
    now = utcnow()
    counts = {"care_requests_withdrawn": 0, "introductions_withdrawn": 0, "arrangements_ended": 0}
    _stop_what_is_live(session, principal, seeker.id, counts)
    session.flush()
    rows = seeker_rows(seeker.id)
    for table, columns in seeker_text_columns().items():
        if table not in rows:
            raise LookupError(f"erasure does not know which {table} rows are the seeker's")
        values = {name: _scrubbed(table, name, seeker.id) for name in columns}
        session.execute(
            update(Base.metadata.tables[table]).where(rows[table]).values(**values),
        )
    # The reasons the stops above recorded are the word "erased": put them back.
    session.execute(
        update(CareRequest)
        .where(rows["care_requests"], CareRequest.status == RequestStatus.WITHDRAWN)
        .values(status_reason=REASON)
    )
    session.execute(
        update(Arrangement)
        .where(rows["arrangements"], Arrangement.status == ArrangementStatus.ENDED)
        .values(end_reason=REASON)
    )
    session.execute(
        update(CareSeeker)
        .where(CareSeeker.id == seeker.id)
        .values(contact_preference=None, erased_at=now)
    )
    for consent in seeker.consents:
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
    # Scores, not text: the seeker's wellbeing answers are deleted outright.
    delete_wellbeing(session, seeker.id)
    delete_equality_monitoring(session, seeker.id)
    delete_activity_referrals(session, seeker.id)
    session.expire(seeker)
    agency_id, council_id = _where_known(session, seeker.id)
    record(
        session,
        principal,
        "care_seeker.erased",
        seeker,
        None,
        counts,
        agency_id=agency_id,
        council_id=council_id,
    )
    return counts


def _stop_what_is_live(
    session: Session, principal: Principal, seeker_id: str, counts: dict[str, int]
) -> None:
    for care_request in session.scalars(
        select(CareRequest).where(CareRequest.seeker_id == seeker_id).with_for_update()
    ):
        if care_request.status in LIVE_STATUSES:
            set_request_status(session, principal, care_request, RequestStatus.WITHDRAWN, REASON)
            counts["care_requests_withdrawn"] += 1
    requests = select(CareRequest.id).where(CareRequest.seeker_id == seeker_id)
    for introduction in session.scalars(
        select(Introduction)
        .where(
            Introduction.care_request_id.in_(requests),
            Introduction.status.in_(PENDING_INTRODUCTIONS),
        )
        .with_for_update()
    ):
        before = introduction.status
        introduction.status = IntroductionStatus.WITHDRAWN
        introduction.decline_reason = REASON
        record(
            session,
            principal,
            "introduction.withdrawn",
            introduction,
            {"status": before.value},
            {"status": introduction.status.value, "reason": REASON},
        )
        counts["introductions_withdrawn"] += 1
    for arrangement in session.scalars(
        select(Arrangement)
        .where(Arrangement.seeker_id == seeker_id, Arrangement.status.in_(LIVE_ARRANGEMENTS))
        .with_for_update()
    ):
        before = arrangement.status
        arrangement.status = ArrangementStatus.ENDED
        arrangement.ended_at = utcnow()
        arrangement.end_reason = REASON
        record(
            session,
            principal,
            "arrangement.ended",
            arrangement,
            {"status": before.value},
            {"status": arrangement.status.value, "reason": REASON},
        )
        arrangement_event(session, "arrangement.ended", arrangement)
        counts["arrangements_ended"] += 1


def _where_known(session: Session, seeker_id: str) -> tuple[str | None, str | None]:
    """The agency and council of the seeker's latest request: whose managers see the entry."""
    row = session.execute(
        select(CareRequest.agency_id, CareRequest.council_id)
        .where(CareRequest.seeker_id == seeker_id, CareRequest.agency_id.is_not(None))
        .order_by(CareRequest.created_at.desc())
        .limit(1)
    ).first()
    return (row.agency_id, row.council_id) if row else (None, None)
