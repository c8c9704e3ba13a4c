"""Vetting: a provider applies to agencies, their managers decide; councils grant ISF approval.

Every move of a listing goes through ``LISTING_STATES`` (beside the model) and
appends a :class:`VettingDecision`, so the record of who decided what, and why, is
complete and append-only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record
from agency.db import utcnow
from agency.directory import public_windows
from agency.directory.models import Agency, Council
from agency.errors import Forbidden, InvalidInput, ReadOnly
from agency.ids import new_id
from agency.introductions.match_triggers import provider_inputs_changed
from agency.pagination import sort_clause
from agency.providers.models import (
    LISTING_STATES,
    IsfApproval,
    ListingStatus,
    ProviderListing,
    VettingDecision,
)
from agency.providers.profile import relocate
from agency.providers.service import (
    AlreadyApplied,
    NotOwnProvider,
    provider_for_owner,
    provider_for_read,
)
from agency.unit_of_work import unit_of_work

LISTING_SORTS = {
    "created_at": ProviderListing.created_at,
    "updated_at": ProviderListing.updated_at,
    "status": ProviderListing.status,
}

S = ListingStatus
DECISIONS = ("approve", "request_info", "reject", "suspend", "reinstate")
# The listing states the matcher tells apart: approved here, suspended anywhere.
MATCHER_READS = frozenset({S.APPROVED, S.SUSPENDED})


def apply_to_agency(
    session: Session, principal: Principal, provider_id: str, agency_id: str
) -> ProviderListing:
    """The provider asks an agency to list it; the agency's manager will vet it."""
    provider = provider_for_owner(session, principal, provider_id)
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise InvalidInput(errors={"agency_id": [f"No agency with id {agency_id}."]})
    existing = session.scalar(
        select(ProviderListing).where(
            ProviderListing.provider_id == provider.id, ProviderListing.agency_id == agency.id
        )
    )
    if existing is not None:
        raise AlreadyApplied(listing_id=existing.id, current_status=existing.status.value)
    with unit_of_work(session, integrity_error=AlreadyApplied) as uow:
        listing = ProviderListing(
            id=new_id("lst"),
            provider_id=provider.id,
            agency_id=agency.id,
            council_id=agency.council_id,
            status=ListingStatus.APPLIED,
        )
        session.add(listing)
        session.add(_decision(listing.id, None, ListingStatus.APPLIED, None, principal))
        session.flush()
        record(session, principal, "listing.applied", listing, None, {"status": "applied"})
        # The first agency's council decides which local-spend circles the provider counts in.
        relocate(session, provider)
        uow.commit()
    return listing


def listings_query(
    principal: Principal,
    *,
    status: ListingStatus | None = None,
    agency_id: str | None = None,
    provider_id: str | None = None,
    sort: str | None = None,
) -> Select[Any]:
    """Listings the principal may see: its agency's, its council's, or its own."""
    if principal.kind is Kind.PARTNER:
        raise Forbidden()
    stmt = (
        select(ProviderListing)
        .options(selectinload(ProviderListing.provider))
        .where(visible_to(ProviderListing, principal))
    )
    if status is not None:
        stmt = stmt.where(ProviderListing.status == status)
    if agency_id is not None:
        stmt = stmt.where(ProviderListing.agency_id == agency_id)
    if provider_id is not None:
        stmt = stmt.where(ProviderListing.provider_id == provider_id)
    order = sort_clause(sort, LISTING_SORTS, default="created_at")
    return stmt.order_by(*order, ProviderListing.id)


def get_listing(session: Session, principal: Principal, listing_id: str) -> ProviderListing:
    return load(session, principal, ProviderListing, listing_id, Action.READ)


def decide(
    session: Session, principal: Principal, listing_id: str, decision: str, reason: str | None
) -> ProviderListing:
    """A manager of the listing's agency approves, asks for more, rejects, suspends, reinstates."""
    listing = get_listing(session, principal, listing_id)
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("Only a manager of this agency decides on its listings.")
    if decision not in DECISIONS:
        raise InvalidInput(errors={"decision": [f"One of: {', '.join(DECISIONS)}."]})
    return _move(session, principal, listing, decision, reason)


def resubmit(
    session: Session, principal: Principal, listing_id: str, note: str | None
) -> ProviderListing:
    """The provider answers a request for more information and asks to be vetted again."""
    listing = get_listing(session, principal, listing_id)
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
        raise NotOwnProvider()
    return _move(session, principal, listing, "resubmit", note)


def _move(
    session: Session,
    principal: Principal,
    listing: ProviderListing,
    move: str,
    reason: str | None,
) -> ProviderListing:
    current = listing.status
    target = LISTING_STATES.target(listing, move)
    # Compare-and-set: only one of two concurrent decisions on the same status wins.
    now = utcnow()
    with unit_of_work(session) as uow:
        moved = session.execute(
            update(ProviderListing)
            .where(ProviderListing.id == listing.id, ProviderListing.status == current)
            .values(status=target, reason=reason, decided_by=principal.id, decided_at=now)
            .execution_options(synchronize_session=False, **public_windows.NAMED)
        ).rowcount
        if not moved:
            uow.rollback()
            session.refresh(listing)
            raise LISTING_STATES.illegal(listing, move)
        session.add(_decision(listing.id, current, target, reason, principal))
        record(
            session,
            principal,
            f"listing.{move}",
            listing,
            {"status": current.value},
            {"status": target.value, "reason": reason},
        )
        if {current, target} & MATCHER_READS:
            # A Core update: the flush hook never sees it, so the re-match is asked for here.
            # A suspension holds at every agency, so all of the provider's agencies re-match.
            provider_inputs_changed(session, provider_ids=[listing.provider_id])
        uow.commit()
    session.refresh(listing)
    return listing


def _decision(
    listing_id: str,
    from_status: ListingStatus | None,
    to_status: ListingStatus,
    reason: str | None,
    principal: Principal,
) -> VettingDecision:
    return VettingDecision(
        id=new_id("vet"),
        listing_id=listing_id,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        reason=reason,
        decided_by=principal.id,
        created_at=utcnow(),
    )


# --- ISF approved provider status ------------------------------------------------------------


def record_isf_approval(
    session: Session,
    principal: Principal,
    provider_id: str,
    *,
    council_id: str,
    approved: bool,
    reason: str | None,
) -> IsfApproval:
    """Record a council's own decision on ISF approved provider status.

    The one write an auditor may make: it records the council's process, it does not
    change money or care. Auditors record it for their own council only.
    """
    if principal.kind is Kind.AUDITOR and principal.council_id != council_id:
        raise Forbidden("Auditors record ISF approval for their own council only.")
    if principal.kind not in (Kind.AUDITOR, Kind.ADMIN):
        raise Forbidden("Only the council's auditors record ISF approval.")
    provider = provider_for_read(session, principal, provider_id)
    if session.get(Council, council_id) is None:
        raise InvalidInput(errors={"council_id": [f"No council with id {council_id}."]})
    approval = session.scalar(
        select(IsfApproval).where(
            IsfApproval.provider_id == provider.id, IsfApproval.council_id == council_id
        )
    )
    with unit_of_work(session) as uow:
        if approval is None:
            approval = IsfApproval(id=new_id("isa"), provider_id=provider.id, council_id=council_id)
            session.add(approval)
        before = None if approval.recorded_by is None else {"approved": approval.approved}
        approval.approved, approval.reason, approval.recorded_by = approved, reason, principal.id
        session.flush()
        record(
            session,
            principal,
            "isf_approval.recorded",
            approval,
            before,
            {"approved": approved, "reason": reason},
            council_id=council_id,
        )
        uow.commit()
    return approval


def isf_approvals(session: Session, principal: Principal, provider_id: str) -> list[IsfApproval]:
    """ISF approval per council; an auditor sees its own council's only."""
    provider = provider_for_read(session, principal, provider_id)
    stmt = select(IsfApproval).where(IsfApproval.provider_id == provider.id)
    if principal.kind is Kind.AUDITOR:
        stmt = stmt.where(IsfApproval.council_id == principal.council_id)
    return list(session.scalars(stmt.order_by(IsfApproval.council_id)))
