"""Whether a provider can be matched on a date, and every reason why not, in words.

It explains the rule of :func:`agency.providers.compliance.compliance_valid_until`
together with the provider's standing with agencies, services and availability.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, allows
from agency.providers.compliance import (
    best_verified_item,
    compliance_valid_until,
    regulated_service_keys,
    required_kinds,
    valid_through,
)
from agency.providers.models import ComplianceStatus, ListingStatus, Provider
from agency.providers.service import provider_for_read
from agency.schedule import mask_from_hex


@dataclass
class Eligibility:
    provider_id: str
    as_of: dt.date
    compliance_valid_until: dt.date | None
    approved_agency_ids: list[str]
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matchable(self) -> bool:
        return not self.reasons


def eligibility(
    session: Session,
    principal: Principal,
    provider_id: str,
    as_of: dt.date,
    agency_id: str | None = None,
) -> Eligibility:
    """Whether the provider can be matched on ``as_of`` and, if not, every reason why.

    A manager sees its own agency's standing only, an auditor its council's.
    """
    provider = provider_for_read(session, principal, provider_id)
    if principal.kind is Kind.MANAGER:
        agency_id = principal.agency_id
    listings = [
        listing
        for listing in provider.listings
        if (agency_id is None or listing.agency_id == agency_id)
        and allows(principal, Action.READ, listing)
    ]
    approved = [lst.agency_id for lst in listings if lst.status is ListingStatus.APPROVED]
    regulated = regulated_service_keys(session)
    result = Eligibility(
        provider.id, as_of, compliance_valid_until(provider, as_of, regulated), sorted(approved)
    )
    result.reasons.extend(_compliance_reasons(provider, as_of, regulated))
    for listing in listings:
        if listing.status is ListingStatus.SUSPENDED:
            result.reasons.append(
                {
                    "code": "suspended",
                    "agency_id": listing.agency_id,
                    "message": f"Suspended by agency {listing.agency_id}."
                    + (f" Reason: {listing.reason}" if listing.reason else ""),
                }
            )
    if not approved:
        statuses = ", ".join(sorted({lst.status.value for lst in listings})) or "no application"
        result.reasons.append(
            {
                "code": "not_approved",
                "agency_id": agency_id,
                "message": f"Not approved by any agency ({statuses}).",
            }
        )
    if not provider.services:
        result.reasons.append({"code": "no_services", "message": "No services offered."})
    if not mask_from_hex(provider.availability_mask).any():
        result.reasons.append({"code": "no_availability", "message": "No weekly availability."})
    return result


def _compliance_reasons(
    provider: Provider, today: dt.date, regulated: frozenset[str]
) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    for kind in required_kinds(provider, regulated):
        items = [i for i in provider.compliance_items if i.kind is kind]
        best = best_verified_item(provider, kind, today)
        if not items:
            reasons.append(
                {
                    "code": f"{kind.value}_missing",
                    "kind": kind.value,
                    "message": f"No {kind.value} compliance item.",
                }
            )
        elif best is None:
            latest = max(items, key=lambda i: i.updated_at)
            reasons.append(
                {
                    "code": f"{kind.value}_unverified",
                    "kind": kind.value,
                    "item_id": latest.id,
                    "message": f"The {kind.value} item {latest.id} is {latest.status.value}"
                    + (" (not valid yet)." if latest.status is ComplianceStatus.VERIFIED else "."),
                }
            )
        elif valid_through(best) < today:
            reasons.append(
                {
                    "code": "compliance_expired",
                    "kind": kind.value,
                    "item_id": best.id,
                    "date": best.expires_on.isoformat() if best.expires_on else None,
                    "message": f"The {kind.value} item {best.id} expired on {best.expires_on}.",
                }
            )
    return reasons
