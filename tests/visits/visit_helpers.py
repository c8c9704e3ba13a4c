"""A small world for visits: an agency, its manager, a provider, a partner's seeker, and
an arrangement between them (made with the models directly, as the brief of the
introductions domain leaves arrangements to its own workflow)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agency.accounts.models import User
from agency.directory.models import Agency
from agency.introductions.models import Arrangement
from agency.isf.funding import allocate
from agency.isf.isf_accounts import open_isf_account
from agency.isf.models import IsfAccount
from agency.providers.models import Provider
from agency.seekers.models import CareSeeker
from agency.visits.visit_rules import london_today
from tests import factories
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
    principal_of,
)

EVERY_DAY = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]


def days_ago(n: int) -> dt.date:
    return london_today() - dt.timedelta(days=n)


def make_arrangement(
    session: Session,
    agency: Agency,
    provider: Provider,
    seeker: CareSeeker,
    *,
    schedule: list[dict[str, object]] | None = None,
    start_date: dt.date | None = None,
    **kwargs: Any,
) -> Arrangement:
    """tests.factories.make_arrangement with these tests' defaults (every day, 90 days ago)."""
    return factories.make_arrangement(
        session,
        agency,
        provider,
        seeker,
        schedule=EVERY_DAY if schedule is None else schedule,
        start_date=start_date or days_ago(90),
        **kwargs,
    )


@dataclass
class World:
    agency: Agency
    manager: User
    provider: Provider
    seeker: CareSeeker
    arrangement: Arrangement
    provider_headers: dict[str, str]
    manager_headers: dict[str, str]
    partner_headers: dict[str, str]


def make_world(session: Session, **arrangement_options: Any) -> World:
    agency = make_agency(session)
    manager = make_manager(session, agency)
    provider = make_provider(session, agency)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    arrangement = make_arrangement(session, agency, provider, seeker, **arrangement_options)
    return World(
        agency=agency,
        manager=manager,
        provider=provider,
        seeker=seeker,
        arrangement=arrangement,
        provider_headers=provider_headers(session, provider),
        manager_headers=bearer(session, manager),
        partner_headers=api_key(secret),
    )


def provider_headers(session: Session, provider: Provider) -> dict[str, str]:
    return bearer(session, session.get(User, provider.user_id))


def other_provider_headers(session: Session, world: World) -> dict[str, str]:
    return provider_headers(session, make_provider(session, world.agency))


def make_isf_world(session: Session, allocated_pence: int, **options: Any) -> World:
    """A world whose arrangement is paid from an ISF funded with ``allocated_pence``."""
    world = make_world(session, **options)
    manager = principal_of(session, world.manager)
    make_care_request(session, world.seeker, world.agency)
    isf: IsfAccount = open_isf_account(
        session,
        manager,
        seeker_id=world.seeker.id,
        council_reference="BCC-ISF-7",
        plan_start=days_ago(120),
        plan_end=days_ago(-200),
    )
    if allocated_pence:
        allocate(
            session,
            manager,
            isf.id,
            amount_pence=allocated_pence,
            period_start=days_ago(120),
            period_end=days_ago(-200),
        )
    world.arrangement.funding = "isf"
    world.arrangement.isf_account_id = isf.id
    session.commit()
    return world


def log(client, world: World, day: int = 3, start: str = "10:00", end: str = "11:00", **extra):  # type: ignore[no-untyped-def]
    """POST a visit ``day`` days ago; returns the response."""
    body = {
        "date": days_ago(day).isoformat(),
        "start": start,
        "end": end,
        "services": ["companionship"],
        **extra,
    }
    return client.post(
        f"/arrangements/{world.arrangement.id}/visits", json=body, headers=world.provider_headers
    )


def submit(client, world: World, first: int = 20, last: int = 0):  # type: ignore[no-untyped-def]
    return client.post(
        f"/arrangements/{world.arrangement.id}/timesheets",
        json={
            "period_start": days_ago(first).isoformat(),
            "period_end": days_ago(last).isoformat(),
        },
        headers=world.provider_headers,
    )
