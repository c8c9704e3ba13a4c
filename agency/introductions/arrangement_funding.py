"""Which ISF account pays for an arrangement: the one given or the seeker's open account at
the agency when it starts or takes new terms, and an account opened later links itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.audit.service import record
from agency.errors import InvalidInput
from agency.introductions.events import arrangement_event
from agency.introductions.models import (
    Arrangement,
    ArrangementStatus,
)
from agency.isf.models import IsfAccount, IsfStatus
from agency.seekers.models import CareRequest, Funding

A = ArrangementStatus


def isf_account_for(
    session: Session, care_request: CareRequest, agency_id: str, given: str | None
) -> str | None:
    """The ISF paying: the one given (it must be the seeker's, open, at this agency), else
    for ISF funding the seeker's open account at the agency (one per seeker and agency)."""
    stmt = select(IsfAccount.id).where(
        IsfAccount.seeker_id == care_request.seeker_id,
        IsfAccount.agency_id == agency_id,
        IsfAccount.status == IsfStatus.OPEN,
    )
    if given:
        if session.scalar(stmt.where(IsfAccount.id == given)) is None:
            raise InvalidInput(
                errors={"isf_account_id": ["Not an open ISF account of this seeker here."]}
            )
        return given
    return session.scalar(stmt) if care_request.funding is Funding.ISF else None


def link_isf_account(session: Session, principal: Principal, isf: IsfAccount) -> list[str]:
    """A seeker's ISF account opened after their arrangement was confirmed pays for it.

    Every live ISF-funded arrangement of that seeker at that agency without an account gets
    this one (one account per seeker and agency), in the caller's transaction; audited.
    """
    found = session.scalars(
        select(Arrangement)
        .where(
            Arrangement.seeker_id == isf.seeker_id,
            Arrangement.agency_id == isf.agency_id,
            Arrangement.funding == Funding.ISF.value,
            Arrangement.isf_account_id.is_(None),
            Arrangement.status != A.ENDED,
        )
        .with_for_update()
    ).all()
    for arrangement in found:
        arrangement.isf_account_id = isf.id
        record(
            session,
            principal,
            "arrangement.isf_account_linked",
            arrangement,
            {"isf_account_id": None},
            {"isf_account_id": isf.id},
        )
        arrangement_event(session, "arrangement.changed", arrangement)
    return [a.id for a in found]


def attach_isf_account(session: Session, arrangement: Arrangement, isf_account_id: str) -> None:
    """The ISF account an ISF-funded arrangement is paid from, from this version on."""
    if arrangement.funding != Funding.ISF.value:
        raise InvalidInput(
            errors={"isf_account_id": ["Only an ISF-funded arrangement is paid from an ISF."]}
        )
    care_request = session.get(CareRequest, arrangement.care_request_id)
    assert care_request is not None
    arrangement.isf_account_id = isf_account_for(
        session, care_request, arrangement.agency_id, isf_account_id
    )
