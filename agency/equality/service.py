"""Recording equality monitoring: write-only, by the seeker's partner, with consent.

The partner that registered the seeker records (or replaces) the answers under consent to
``equality_monitoring`` (409 without). Nothing reads them back one person at a time: the
only reader is the equal-access report, which shows suppressed aggregates. No audit entry
is written either (the trail is append-only and could never forget the answers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.db import utcnow
from agency.equality.models import CHARACTERISTICS, EqualityMonitoring
from agency.errors import Conflict
from agency.ids import new_id
from agency.seekers.service import current_consent, writable_seeker
from agency.unit_of_work import unit_of_work

PURPOSE = "equality_monitoring"


class MonitoringConsentRequired(Conflict):
    code = "consent_required"
    message = "The care seeker has not consented to equality monitoring."


def record_monitoring(
    session: Session, principal: Principal, seeker_id: str, answers: dict[str, Any]
) -> None:
    """Store the seeker's answers, replacing earlier ones (questions left out: not answered)."""
    seeker = writable_seeker(session, principal, seeker_id)
    consent = current_consent(seeker)
    if consent is None or PURPOSE not in consent.purposes:
        raise MonitoringConsentRequired()
    row = session.scalar(
        select(EqualityMonitoring).where(EqualityMonitoring.seeker_id == seeker.id)
    )
    with unit_of_work(session) as uow:
        if row is None:
            row = EqualityMonitoring(
                id=new_id("eqm"), seeker_id=seeker.id, partner_client_id=seeker.partner_client_id
            )
            session.add(row)
        for name in CHARACTERISTICS:
            setattr(row, name, answers.get(name))
        row.recorded_at = utcnow()
        uow.commit()


def delete_for_seeker(session: Session, seeker_id: str) -> None:
    """Erasure (and withdrawal): the answers go entirely."""
    session.execute(delete(EqualityMonitoring).where(EqualityMonitoring.seeker_id == seeker_id))
