"""Bodies and principals shared by the provider tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agency.accounts.models import User
from agency.directory.models import Agency, Council
from agency.ids import new_id
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    Provider,
)
from tests.factories import (
    bearer,
    make_agency,
    make_auditor,
    make_council,
    make_manager,
    make_partner,
    make_provider,
)


def registration_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "sam@bedminster.example",
        "password": "a long enough pass phrase",
        "trading_name": "Bedminster Companions",
        "organisation_type": "sole_trader",
        "size": "sole_trader",
        "sector": "private",
        "base_postcode": "BS3 4HT",
        "travel_radius_km": 5,
        "capacity_hours_per_week": 20,
        "languages": ["EN", "so"],
        "skills": ["dementia awareness"],
        "gender": "Female",
        "bio": "Retired nurse.",
    }
    body.update(overrides)
    return body


def provider_headers(session: Session, provider: Provider) -> dict[str, str]:
    return bearer(session, session.get(User, provider.user_id))


@dataclass
class World:
    """A provider applied to agency A (council C); strangers of every kind around it."""

    council: Council
    agency: Agency
    provider: Provider
    me: dict[str, str]
    manager: dict[str, str]
    auditor: dict[str, str]
    other_provider: dict[str, str]
    other_manager: dict[str, str]
    other_auditor: dict[str, str]
    partner: dict[str, str]
    other_agency: Agency


def make_world(session: Session, status: ListingStatus = ListingStatus.APPLIED, **kw: Any) -> World:
    council = make_council(session, area_key="bristol")
    agency = make_agency(session, council)
    provider = make_provider(session, agency, status=status, **kw)
    other_agency = make_agency(session)
    stranger = make_provider(session, other_agency)
    _, secret = make_partner(session)
    return World(
        council=council,
        agency=agency,
        provider=provider,
        me=provider_headers(session, provider),
        manager=bearer(session, make_manager(session, agency)),
        auditor=bearer(session, make_auditor(session, council)),
        other_provider=provider_headers(session, stranger),
        other_manager=bearer(session, make_manager(session, other_agency)),
        other_auditor=bearer(session, make_auditor(session, other_agency.council)),
        partner={"X-API-Key": secret},
        other_agency=other_agency,
    )


def add_item(
    session: Session,
    provider: Provider,
    kind: ComplianceKind,
    *,
    status: ComplianceStatus = ComplianceStatus.VERIFIED,
    expires_on: dt.date | None = dt.date(2030, 1, 1),
    evidence_reference: str = "1-123456789",
) -> ComplianceItem:
    item = ComplianceItem(
        id=new_id("cmp"),
        provider_id=provider.id,
        kind=kind,
        evidence_reference=evidence_reference,
        issued_on=dt.date(2024, 1, 1),
        expires_on=expires_on,
        status=status,
    )
    session.add(item)
    session.commit()
    return item
