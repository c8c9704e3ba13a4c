"""A provider's compliance documents: added and corrected by the provider, verified or
rejected by an agency, every change audited. What counts is ``agency.providers.compliance``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.audit.service import record, snapshot
from agency.db import utcnow
from agency.directory import public_windows
from agency.errors import InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.match_triggers import provider_inputs_changed
from agency.providers.compliance import best_verified_item
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    Provider,
)
from agency.providers.service import (
    ComplianceItemNotPending,
    provider_for_manager,
    provider_for_owner,
    provider_for_read,
)
from agency.unit_of_work import unit_of_work

ITEM_FIELDS = ("kind", "title", "level", "evidence_reference", "issued_on", "expires_on")


def list_items(session: Session, principal: Principal, provider_id: str) -> list[ComplianceItem]:
    items = provider_for_read(session, principal, provider_id).compliance_items
    return sorted(items, key=lambda i: (i.kind.value, i.created_at, i.id))


def add_item(
    session: Session, principal: Principal, provider_id: str, values: Mapping[str, Any]
) -> ComplianceItem:
    """The provider records a document; it waits (pending) until an agency verifies it."""
    provider = provider_for_owner(session, principal, provider_id)
    item = ComplianceItem(id=new_id("cmp"), status=ComplianceStatus.PENDING)
    with unit_of_work(session) as uow:
        _apply(item, values)
        provider.compliance_items.append(item)
        session.flush()
        _record(session, principal, provider, "compliance.added", item, None)
        uow.commit()
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
    with unit_of_work(session) as uow:
        _apply(item, changes)
        item.status = ComplianceStatus.PENDING
        item.verified_by = item.verified_at = item.status_reason = None
        _sync_cqc_number(provider)
        _record(session, principal, provider, "compliance.changed", item, before)
        if before.get("status") == ComplianceStatus.VERIFIED.value:
            # A verified item went back to pending: it no longer counts for the matcher.
            provider_inputs_changed(session, provider_ids=[provider.id])
        uow.commit()
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
    with unit_of_work(session) as uow:
        moved = session.execute(
            update(ComplianceItem)
            .where(ComplianceItem.id == item.id, ComplianceItem.status.in_(allowed_from))
            .values(status=to, status_reason=reason, verified_by=principal.id, verified_at=utcnow())
            .execution_options(synchronize_session=False, **public_windows.NAMED)
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
        uow.commit()
    return item


def _sync_cqc_number(provider: Provider) -> None:
    """Keep the profile's CQC number in step with the verified registration (or clear it)."""
    best = best_verified_item(provider, ComplianceKind.CQC_REGISTRATION, dt.date.max)
    provider.cqc_registration_number = best.evidence_reference[:20] if best else None
