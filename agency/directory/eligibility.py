"""Who may be shown to care seekers: approved somewhere and compliant, by the matcher's rule.

A provider is *eligible* when it is approved at an agency (a suspended listing is
not approved) and *compliant* on the day: the one rule of
:mod:`agency.providers.compliance` that the matcher also uses. Every required kind
(DBS and insurance; a CQC registration too when the provider lists a regulated
service such as personal care) needs an item an agency verified, already issued
(``issued_on`` on or before the day) and not expired (no expiry date counts as in
date; an item expiring today still covers today). A provider offering personal
care without an in-date CQC registration is therefore not shown at all, exactly
as the matcher will not match it: the Health and Social Care Act 2008 (Regulated
Activities) Regulations 2014 make offering it an offence. The public directories
also leave out a provider that lists no service.

The public directory and ORUK read this rule from windows of days kept per provider
(:mod:`agency.directory.public_windows`); the other SQL conditions here are built from
``compliance.compliant_clause`` and the Python predicates from ``compliance.is_compliant``;
``tests/directory/test_one_eligibility_rule.py`` holds the directory, ORUK and the
matcher to the same answers on a table of edge cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, select

from agency.dates import london_today as london_today
from agency.directory.public_windows import public_on_clause
from agency.providers import compliance
from agency.providers.models import (
    ComplianceKind,
    ListingStatus,
    Provider,
    ProviderListing,
    ProviderService,
)

# --- SQL --------------------------------------------------------------------------------------


def approved_clause(agency_id: str | None = None) -> ColumnElement[bool]:
    """The provider has an approved listing (at ``agency_id``, or at any agency)."""
    conditions = [ProviderListing.status == ListingStatus.APPROVED]
    if agency_id is not None:
        conditions.append(ProviderListing.agency_id == agency_id)
    return Provider.id.in_(select(ProviderListing.provider_id).where(*conditions))


def eligible_clause(today: dt.date, agency_id: str | None = None) -> ColumnElement[bool]:
    """Approved (at ``agency_id`` or anywhere) and compliant on ``today``."""
    return and_(approved_clause(agency_id), compliance.compliant_clause(today))


def offers_service_clause(service_key: str, today: dt.date | None = None) -> ColumnElement[bool]:
    """The provider lists ``service_key`` (compliance already covers regulated ones)."""
    return Provider.id.in_(
        select(ProviderService.provider_id).where(ProviderService.service_key == service_key)
    )


def offers_anything_clause(today: dt.date | None = None) -> ColumnElement[bool]:
    """The provider lists at least one service."""
    return Provider.id.in_(select(ProviderService.provider_id))


def public_clause(today: dt.date) -> ColumnElement[bool]:
    """What the public directory and ORUK show: eligible and offering something on ``today``.

    Read from the kept windows (agency.directory.public_windows), which hold this same
    rule: approved somewhere, offering a service, compliant on the day.
    """
    return public_on_clause(today)


# --- Python, on loaded rows -------------------------------------------------------------------


def missing_kinds(
    provider: Provider, today: dt.date, regulated_keys: Collection[str] | None = None
) -> list[ComplianceKind]:
    """Required kinds with no verified, issued, in-date item on ``today``."""
    return [
        kind
        for kind in compliance.required_kinds(provider, regulated_keys)
        if (best := compliance.best_verified_item(provider, kind, today)) is None
        or compliance.valid_through(best) < today
    ]


def is_eligible(
    provider: Provider,
    today: dt.date,
    agency_id: str | None = None,
    regulated_keys: Collection[str] | None = None,
) -> bool:
    """The Python twin of :func:`eligible_clause` (needs listings and compliance loaded)."""
    approved = any(
        listing.status is ListingStatus.APPROVED
        and (agency_id is None or listing.agency_id == agency_id)
        for listing in provider.listings
    )
    return approved and compliance.is_compliant(provider, today, regulated_keys)
