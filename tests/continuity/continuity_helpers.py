"""A visits world with planned visits, and the other principals each refusal test uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.directory.models import Council
from agency.visits.planned_models import PlannedVisit
from agency.visits.planning import plan_arrangement
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_manager,
    make_partner,
    make_provider,
)
from tests.visits.visit_helpers import World, make_world, provider_headers

WEEKDAY_TEN = [{"weekday": d, "start": "10:00", "end": "11:00"} for d in range(5)]
EVERY_DAY_TEN = [{"weekday": d, "start": "10:00", "end": "11:00"} for d in range(7)]


def planned_world(session: Session, days_back: int = 0) -> World:
    """A world whose arrangement (a visit at 10:00 every day) is planned from
    ``days_back`` days ago to four weeks from then."""
    world = make_world(session, schedule=EVERY_DAY_TEN, minutes_per_week=420)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_back)
    plan_arrangement(session, world.arrangement, now=now)
    session.commit()
    return world


def planned(session: Session, world: World) -> list[PlannedVisit]:
    session.expire_all()
    return list(
        session.scalars(
            select(PlannedVisit)
            .where(PlannedVisit.arrangement_id == world.arrangement.id)
            .order_by(PlannedVisit.starts_at)
        )
    )


def future(session: Session, world: World) -> list[PlannedVisit]:
    now = dt.datetime.now(dt.UTC)
    return [p for p in planned(session, world) if p.starts_at > now]


def others(session: Session, world: World) -> dict[str, dict[str, Any]]:
    """Headers of every principal who must not see ``world``'s planned visits."""
    _, secret = make_partner(session)
    other_agency = make_agency(session)
    return {
        "another partner": api_key(secret),
        "another provider": provider_headers(session, make_provider(session, world.agency)),
        "another agency's manager": bearer(session, make_manager(session, other_agency)),
        "the council's auditor": bearer(
            session, make_auditor(session, session.get(Council, world.agency.council_id))
        ),
    }


def subscribe(client, world: World, receiver, events: list[str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post(
        "/webhook-endpoints",
        json={"url": receiver.url, "events": events},
        headers=world.partner_headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()
