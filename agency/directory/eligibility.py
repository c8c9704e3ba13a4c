"""Who may be shown to care seekers: the one definition of an eligible provider.

A provider is *eligible* when it is approved at an agency (a suspended listing is
not approved) and holds a verified DBS check and verified insurance that have not
expired. An item with no expiry date counts as in date (a DBS certificate has no
statutory expiry; agencies that want renewals set one). An item expiring today
still covers today. A regulated service (CQC personal care) is offered only by a
provider with a verified, in-date CQC registration: the Health and Social Care Act
2008 (Regulated Activities) Regulations 2014 make it an offence otherwise. The
public directories also leave out a provider with nothing it may offer.

Each rule exists twice, as a SQL condition (to filter and page in the database)
and as a Python predicate on loaded rows (to explain it per provider); the tests
hold them to the same answers. Other packages (matching jobs, reports) should
reuse :func:`eligible_clause` rather than write their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select

from agency.directory.models import ServiceType
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    Provider,
    ProviderListing,
    ProviderService,
)

LONDON = ZoneInfo("Europe/London")
REQUIRED_KINDS = (ComplianceKind.DBS, ComplianceKind.INSURANCE)


def london_today() -> dt.date:
    """Today's date where the agencies work (expiry dates are UK calendar dates)."""
    return dt.datetime.now(LONDON).date()


# --- SQL --------------------------------------------------------------------------------------


def holds_in_date(kind: ComplianceKind, today: dt.date) -> ColumnElement[bool]:
    """The provider has a verified item of ``kind`` that has not expired by ``today``."""
    return exists().where(
        ComplianceItem.provider_id == Provider.id,
        ComplianceItem.kind == kind,
        ComplianceItem.status == ComplianceStatus.VERIFIED,
        or_(ComplianceItem.expires_on.is_(None), ComplianceItem.expires_on >= today),
    )


def approved_clause(agency_id: str | None = None) -> ColumnElement[bool]:
    """The provider has an approved listing (at ``agency_id``, or at any agency)."""
    conditions = [
        ProviderListing.provider_id == Provider.id,
        ProviderListing.status == ListingStatus.APPROVED,
    ]
    if agency_id is not None:
        conditions.append(ProviderListing.agency_id == agency_id)
    return exists().where(*conditions)


def eligible_clause(today: dt.date, agency_id: str | None = None) -> ColumnElement[bool]:
    """Approved (at ``agency_id`` or anywhere) and holding in-date verified DBS and insurance."""
    return and_(
        approved_clause(agency_id), *(holds_in_date(kind, today) for kind in REQUIRED_KINDS)
    )


def offers_service_clause(service_key: str, today: dt.date) -> ColumnElement[bool]:
    """The provider lists ``service_key`` and, if it is regulated, may lawfully offer it."""
    regulated = select(ServiceType.regulated).where(ServiceType.key == service_key)
    return and_(
        exists().where(
            ProviderService.provider_id == Provider.id, ProviderService.service_key == service_key
        ),
        or_(
            ~regulated.scalar_subquery(),
            holds_in_date(ComplianceKind.CQC_REGISTRATION, today),
        ),
    )


def offers_anything_clause(today: dt.date) -> ColumnElement[bool]:
    """The provider lists at least one service it may lawfully offer."""
    return exists().where(
        ProviderService.provider_id == Provider.id,
        ProviderService.service_key == ServiceType.key,
        or_(
            ServiceType.regulated.is_(False),
            holds_in_date(ComplianceKind.CQC_REGISTRATION, today),
        ),
    )


# --- Python, on loaded rows -------------------------------------------------------------------


def item_in_date(item: ComplianceItem, today: dt.date) -> bool:
    return item.status is ComplianceStatus.VERIFIED and (
        item.expires_on is None or item.expires_on >= today
    )


def missing_kinds(items: Iterable[ComplianceItem], today: dt.date) -> list[ComplianceKind]:
    """Required kinds with no verified in-date item."""
    held = {item.kind for item in items if item_in_date(item, today)}
    return [kind for kind in REQUIRED_KINDS if kind not in held]


def is_eligible(provider: Provider, today: dt.date, agency_id: str | None = None) -> bool:
    """The Python twin of :func:`eligible_clause` (needs listings and compliance loaded)."""
    approved = any(
        listing.status is ListingStatus.APPROVED
        and (agency_id is None or listing.agency_id == agency_id)
        for listing in provider.listings
    )
    return approved and not missing_kinds(provider.compliance_items, today)


def offered_services(
    provider: Provider, regulated_keys: set[str], today: dt.date
) -> list[ProviderService]:
    """The provider's services a seeker may be offered (regulated ones need CQC registration)."""
    cqc = any(
        item.kind is ComplianceKind.CQC_REGISTRATION and item_in_date(item, today)
        for item in provider.compliance_items
    )
    return [s for s in provider.services if cqc or s.service_key not in regulated_keys]
