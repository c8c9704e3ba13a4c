"""Compliance documents and their verification by agencies; the rule of what is required.

The one rule the matcher relies on, which items are required and until when they
hold, is :func:`compliance_valid_until`; ``eligibility`` explains it in words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, object_session

from agency.access import Principal
from agency.audit.service import record, snapshot
from agency.db import utcnow
from agency.directory.models import ServiceType
from agency.errors import InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.match_triggers import provider_inputs_changed
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    Provider,
    ProviderService,
)
from agency.providers.service import (
    ComplianceItemNotPending,
    provider_for_manager,
    provider_for_owner,
    provider_for_read,
)

# Every provider needs a DBS check and insurance; a CQC registration only when it
# offers a regulated service (personal care).
ALWAYS_REQUIRED = (ComplianceKind.DBS, ComplianceKind.INSURANCE)
NO_EXPIRY = dt.date.max
ITEM_FIELDS = ("kind", "title", "level", "evidence_reference", "issued_on", "expires_on")


def regulated_service_keys(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(ServiceType.key).where(ServiceType.regulated)))


def required_kinds(
    provider: Provider, regulated_keys: Collection[str] | None = None
) -> tuple[ComplianceKind, ...]:
    """The compliance kinds this provider must hold, given the services it offers."""
    if regulated_keys is None:
        session = object_session(provider)
        regulated_keys = regulated_service_keys(session) if session else frozenset()
    if any(s.service_key in regulated_keys for s in provider.services):
        return (*ALWAYS_REQUIRED, ComplianceKind.CQC_REGISTRATION)
    return ALWAYS_REQUIRED


def valid_through(item: ComplianceItem) -> dt.date:
    return item.expires_on or NO_EXPIRY


def best_verified_item(
    provider: Provider, kind: ComplianceKind, today: dt.date
) -> ComplianceItem | None:
    """The verified item of ``kind`` that lasts longest (a renewal supersedes the old one).

    An item issued after ``today`` does not count yet.
    """
    verified = [i for i in provider.compliance_items if i.kind is kind and counts_on(i, today)]
    return max(verified, key=valid_through, default=None)


def counts_on(item: ComplianceItem, today: dt.date) -> bool:
    """An item counts once an agency verified it and it has been issued (not expiry)."""
    return item.status is ComplianceStatus.VERIFIED and (
        item.issued_on is None or item.issued_on <= today
    )


def compliance_valid_until(
    provider: Provider, today: dt.date, regulated_keys: Collection[str] | None = None
) -> dt.date | None:
    """Until when the provider's required compliance holds: the earliest expiry among them.

    For each required kind (DBS and insurance; CQC registration too when the provider
    offers a regulated service) take the verified item lasting longest; answer the
    earliest of those dates. None when a required kind has no verified item (items
    issued after ``today`` do not count yet). A date before ``today`` means compliance
    has lapsed (the matcher reports it as compliance_expired); ``date.max`` means
    nothing required expires.
    ``today`` is a Europe/London date; the matcher compares the answer with a care
    request's start date. Pass ``regulated_keys`` when checking many providers at once
    (see :func:`regulated_service_keys`); otherwise they are read from the database.
    """
    until = NO_EXPIRY
    for kind in required_kinds(provider, regulated_keys):
        best = best_verified_item(provider, kind, today)
        if best is None:
            return None
        until = min(until, valid_through(best))
    return until


def cqc_registered(provider: Provider, today: dt.date) -> bool:
    """True when the provider holds a verified CQC registration in date on ``today``."""
    best = best_verified_item(provider, ComplianceKind.CQC_REGISTRATION, today)
    return best is not None and valid_through(best) >= today


def is_compliant(
    provider: Provider, today: dt.date, regulated_keys: Collection[str] | None = None
) -> bool:
    """Every required item holds on ``today`` (the matcher, directory and ORUK all use this)."""
    until = compliance_valid_until(provider, today, regulated_keys)
    return until is not None and until >= today


# --- the same rule in SQL, for lists that filter and page in the database ---------------------


def holds_clause(kind: ComplianceKind, today: dt.date) -> ColumnElement[bool]:
    """SQL twin of :func:`counts_on` plus "not expired by ``today``" for one kind."""
    # Uncorrelated IN (...) rather than EXISTS: PostgreSQL hashes the set once instead of
    # probing it per provider (a whole list of 10k providers: ~70 ms instead of ~165 ms).
    return Provider.id.in_(
        select(ComplianceItem.provider_id).where(
            ComplianceItem.kind == kind,
            ComplianceItem.status == ComplianceStatus.VERIFIED,
            or_(ComplianceItem.issued_on.is_(None), ComplianceItem.issued_on <= today),
            or_(ComplianceItem.expires_on.is_(None), ComplianceItem.expires_on >= today),
        )
    )


def offers_regulated_clause() -> ColumnElement[bool]:
    """The provider lists a regulated service (so it must hold a CQC registration)."""
    return Provider.id.in_(
        select(ProviderService.provider_id).where(
            ProviderService.service_key.in_(select(ServiceType.key).where(ServiceType.regulated))
        )
    )


def compliant_clause(today: dt.date) -> ColumnElement[bool]:
    """SQL twin of :func:`is_compliant`: the required kinds of :func:`required_kinds` hold."""
    return and_(
        *(holds_clause(kind, today) for kind in ALWAYS_REQUIRED),
        or_(
            ~offers_regulated_clause(),
            holds_clause(ComplianceKind.CQC_REGISTRATION, today),
        ),
    )


# --- documents -------------------------------------------------------------------------------


def list_items(session: Session, principal: Principal, provider_id: str) -> list[ComplianceItem]:
    items = provider_for_read(session, principal, provider_id).compliance_items
    return sorted(items, key=lambda i: (i.kind.value, i.created_at, i.id))


def add_item(
    session: Session, principal: Principal, provider_id: str, values: Mapping[str, Any]
) -> ComplianceItem:
    """The provider records a document; it waits (pending) until an agency verifies it."""
    provider = provider_for_owner(session, principal, provider_id)
    item = ComplianceItem(id=new_id("cmp"), status=ComplianceStatus.PENDING)
    _apply(item, values)
    provider.compliance_items.append(item)
    session.flush()
    _record(session, principal, provider, "compliance.added", item, None)
    session.commit()
    return item


def update_item(
    session: Session,
    principal: Principal,
    provider_id: str,
    item_id: str,
    changes: Mapping[str, Any],
) -> ComplianceItem:
    """Editing a document sends it back to pending: what was verified no longer stands."""
    provider = provider_for_owner(session, principal, provider_id)
    item = _item_of(provider, item_id)
    before = snapshot(item, AUDITED_FIELDS)
    _apply(item, changes)
    item.status = ComplianceStatus.PENDING
    item.verified_by = item.verified_at = item.status_reason = None
    _sync_cqc_number(provider)
    _record(session, principal, provider, "compliance.changed", item, before)
    if before.get("status") == ComplianceStatus.VERIFIED.value:
        # A verified item went back to pending: it no longer counts for the matcher.
        provider_inputs_changed(session, provider_ids=[provider.id])
    session.commit()
    return item


AUDITED_FIELDS = ("kind", "level", "evidence_reference", "issued_on", "expires_on", "status")


def _record(
    session: Session,
    principal: Principal,
    provider: Provider,
    action: str,
    item: ComplianceItem,
    before: dict[str, Any] | None,
) -> None:
    """One audit entry per agency the provider is listed with, so each agency's log shows it."""
    listings = provider.listings or []
    for listing in listings:
        record(
            session,
            principal,
            action,
            item,
            before,
            snapshot(item, AUDITED_FIELDS),
            agency_id=listing.agency_id,
            council_id=listing.council_id,
        )
    if not listings:
        record(session, principal, action, item, before, snapshot(item, AUDITED_FIELDS))


def _apply(item: ComplianceItem, values: Mapping[str, Any]) -> None:
    for name in ITEM_FIELDS:
        if name in values:
            setattr(item, name, values[name])
    if item.issued_on and item.expires_on and item.expires_on < item.issued_on:
        raise InvalidInput(errors={"expires_on": ["Must be on or after issued_on."]})
    if item.kind is ComplianceKind.INSURANCE and item.expires_on is None:
        raise InvalidInput(errors={"expires_on": ["An insurance policy has an expiry date."]})


def _item_of(provider: Provider, item_id: str) -> ComplianceItem:
    item = next((i for i in provider.compliance_items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"No compliance item with id {item_id}.")
    return item


def verify_item(
    session: Session, principal: Principal, provider_id: str, item_id: str, note: str | None
) -> ComplianceItem:
    """A manager of an agency the provider applied to has checked the evidence."""
    return _decide(
        session,
        principal,
        provider_id,
        item_id,
        ComplianceStatus.VERIFIED,
        note,
        allowed_from=(ComplianceStatus.PENDING,),
    )


def reject_item(
    session: Session, principal: Principal, provider_id: str, item_id: str, reason: str
) -> ComplianceItem:
    """The evidence does not stand (also for an item verified earlier)."""
    return _decide(
        session,
        principal,
        provider_id,
        item_id,
        ComplianceStatus.REJECTED,
        reason,
        allowed_from=(ComplianceStatus.PENDING, ComplianceStatus.VERIFIED),
    )


def _decide(
    session: Session,
    principal: Principal,
    provider_id: str,
    item_id: str,
    to: ComplianceStatus,
    reason: str | None,
    allowed_from: tuple[ComplianceStatus, ...],
) -> ComplianceItem:
    provider = provider_for_manager(session, principal, provider_id)
    item = _item_of(provider, item_id)
    before = snapshot(item, AUDITED_FIELDS)
    # Compare-and-set on the status, so two managers deciding at once cannot both win.
    moved = session.execute(
        update(ComplianceItem)
        .where(ComplianceItem.id == item.id, ComplianceItem.status.in_(allowed_from))
        .values(status=to, status_reason=reason, verified_by=principal.id, verified_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(item)
    if not moved:
        raise ComplianceItemNotPending(
            f"This compliance item is {item.status.value}; it cannot become {to.value}.",
            current_status=item.status.value,
        )
    _sync_cqc_number(provider)
    _record(session, principal, provider, f"compliance.{to.value}", item, before)
    # A Core update: the flush hook never sees it, so the re-match is asked for here.
    provider_inputs_changed(session, provider_ids=[provider.id])
    session.commit()
    return item


def _sync_cqc_number(provider: Provider) -> None:
    """Keep the profile's CQC number in step with the verified registration (or clear it)."""
    best = best_verified_item(provider, ComplianceKind.CQC_REGISTRATION, dt.date.max)
    provider.cqc_registration_number = best.evidence_reference[:20] if best else None
