"""Cover when a provider is away: affected visits, the engine's proposals, the manager's
offer (one visit or the whole absence), the cover provider's answer."""

import datetime as dt

from sqlalchemy import select

from agency.ids import new_id
from agency.providers.models import AvailabilityException
from agency.visits import cover as cover_service
from agency.visits.continuity import mark_missed
from agency.visits.planned_models import CoverStatus, PlannedVisit
from agency.visits.planning import plan_arrangement
from agency.visits.visit_rules import minutes_of_day
from tests.continuity.continuity_helpers import others, planned, planned_world
from tests.factories import make_provider, make_seeker
from tests.visits.visit_helpers import (
    World,
    days_ago,
    make_arrangement,
    make_world,
    provider_headers,
)


def _away(session, world, first, last):  # type: ignore[no-untyped-def]
    session.add(
        AvailabilityException(
            id=new_id("avx"),
            provider_id=world.provider.id,
            starts_on=first,
            ends_on=last,
            reason="holiday",
        )
    )
    session.commit()


def _weekdays_ahead(n_days):  # type: ignore[no-untyped-def]
    return [days_ago(-d) for d in range(1, n_days + 1) if days_ago(-d).weekday() < 5]


def _setup(session):  # type: ignore[no-untyped-def]
    world = planned_world(session)
    cover = make_provider(session, world.agency)  # weekday mornings, near, cheaper than the cap
    days = _weekdays_ahead(9)
    _away(session, world, days[0], days[-1])
    return world, cover, days


def test_time_off_finds_the_affected_visits_and_the_engine_proposes_cover(client, session):
    world, cover, days = _setup(session)
    url = f"/providers/{world.provider.id}/affected-visits?page_size=100"
    affected = client.get(url, headers=world.manager_headers)
    assert affected.status_code == 200, affected.json
    in_range = [p for p in planned(session, world) if days[0] <= p.date <= days[-1]]
    assert {a["id"] for a in affected.json} == {p.id for p in in_range}
    weekday_visit = next(a for a in affected.json if dt.date.fromisoformat(a["date"]) in days)
    suggestions = client.get(
        f"/planned-visits/{weekday_visit['id']}/cover-suggestions", headers=world.manager_headers
    )
    assert suggestions.status_code == 200, suggestions.json
    ids = [s["provider_id"] for s in suggestions.json]
    assert cover.id in ids and world.provider.id not in ids
    first = suggestions.json[ids.index(cover.id)]
    assert "distance" in first["explanation"] and first["knows_seeker"] is False


def test_the_manager_offers_one_visit_and_the_cover_provider_accepts(client, session):
    world, cover, days = _setup(session)
    target = next(p for p in planned(session, world) if p.date == days[0])
    offered = client.post(
        f"/planned-visits/{target.id}/cover",
        json={"provider_id": cover.id},
        headers=world.manager_headers,
    )
    assert offered.status_code == 200, offered.json
    assert (offered.json["cover_provider_id"], offered.json["cover_status"]) == (
        cover.id,
        "offered",
    )
    cover_headers = provider_headers(session, cover)
    offers = client.get("/cover-offers", headers=cover_headers).json
    assert [o["id"] for o in offers] == [target.id]
    accepted = client.post(f"/planned-visits/{target.id}/cover/accept", headers=cover_headers)
    assert accepted.status_code == 200 and accepted.json["cover_status"] == "accepted"
    again = client.post(f"/planned-visits/{target.id}/cover/accept", headers=cover_headers)
    assert again.status_code == 409 and again.json["code"] == "cover_not_offered"
    # A covered visit is the cover provider's to make: never marked missed.
    later = target.ends_at + dt.timedelta(hours=5)
    mark_missed(session, 120, now=later)
    session.refresh(target)
    assert target.status.value == "planned" and target.cover_status is CoverStatus.ACCEPTED


def test_the_manager_offers_the_whole_absence_at_once(client, session):
    world, cover, days = _setup(session)
    response = client.post(
        f"/providers/{world.provider.id}/absence-cover",
        json={"provider_id": cover.id},
        headers=world.manager_headers,
    )
    assert response.status_code == 200, response.json
    assert {dt.date.fromisoformat(p["date"]) for p in response.json} == set(days)
    assert {p["cover_status"] for p in response.json} == {"offered"}


def test_a_provider_not_proposed_cannot_be_offered(client, session):
    world, _cover, days = _setup(session)
    target = next(p for p in planned(session, world) if p.date == days[0])
    for provider_id in (world.provider.id, "prv_nobody"):
        response = client.post(
            f"/planned-visits/{target.id}/cover",
            json={"provider_id": provider_id},
            headers=world.manager_headers,
        )
        assert response.status_code == 422 and "provider_id" in response.json["errors"]
    missing = client.post(
        f"/planned-visits/{target.id}/cover", json={}, headers=world.manager_headers
    )
    assert missing.status_code == 422


def test_cover_is_refused_to_every_other_principal(client, session):
    world, cover, days = _setup(session)
    target = next(p for p in planned(session, world) if p.date == days[0])
    refused = others(session, world)
    calls = [
        ("get", f"/providers/{world.provider.id}/affected-visits", None),
        ("get", f"/planned-visits/{target.id}/cover-suggestions", None),
        ("post", f"/planned-visits/{target.id}/cover", {"provider_id": cover.id}),
        ("post", f"/providers/{world.provider.id}/absence-cover", {"provider_id": cover.id}),
    ]
    for method, url, body in calls:
        assert getattr(client, method)(url, json=body).status_code == 401, url
        for who, headers in refused.items():
            status = getattr(client, method)(url, json=body, headers=headers).status_code
            expected = 404 if who == "another agency's manager" else 403
            assert status == expected, (who, url, status)
        for headers in (world.provider_headers, world.partner_headers):
            assert getattr(client, method)(url, json=body, headers=headers).status_code == 403
    # Only the provider offered the cover answers it.
    client.post(
        f"/planned-visits/{target.id}/cover",
        json={"provider_id": cover.id},
        headers=world.manager_headers,
    )
    for headers in (world.provider_headers, refused["another provider"]):
        answer = client.post(f"/planned-visits/{target.id}/cover/accept", headers=headers)
        assert answer.status_code == 404
    for who in ("another partner", "another agency's manager", "the council's auditor"):
        answer = client.post(f"/planned-visits/{target.id}/cover/decline", headers=refused[who])
        assert answer.status_code == 403, who
    assert client.get("/cover-offers", headers=world.manager_headers).status_code == 403


def test_the_seekers_named_backup_provider_is_proposed_first(client, session):
    world, cover, days = _setup(session)
    backup = make_provider(session, world.agency, rates={"companionship": 2400})
    url = f"/care-seekers/{world.seeker.id}/backup-provider"
    assert client.get(url, headers=world.partner_headers).json["provider_id"] is None
    named = client.put(url, json={"provider_id": backup.id}, headers=world.partner_headers)
    assert named.status_code == 200, named.json
    assert client.get(url, headers=world.manager_headers).json["provider_id"] == backup.id
    target = next(p for p in planned(session, world) if p.date == days[0])
    suggestions = client.get(
        f"/planned-visits/{target.id}/cover-suggestions", headers=world.manager_headers
    ).json
    assert suggestions[0]["provider_id"] == backup.id and suggestions[0]["backup"] is True
    assert cover.id in {s["provider_id"] for s in suggestions[1:]}
    cleared = client.put(url, json={"provider_id": None}, headers=world.partner_headers)
    assert cleared.status_code == 200 and cleared.json["provider_id"] is None


def test_only_the_seekers_partner_names_a_backup_provider(client, session):
    world, cover, _days = _setup(session)
    url = f"/care-seekers/{world.seeker.id}/backup-provider"
    body = {"provider_id": cover.id}
    bad = client.put(url, json={"provider_id": "prv_nobody"}, headers=world.partner_headers)
    assert bad.status_code == 422 and "provider_id" in bad.json["errors"]
    assert client.put(url, json={}, headers=world.partner_headers).status_code == 422
    refused = others(session, world)
    assert client.put(url, json=body, headers=refused["another partner"]).status_code == 404
    assert client.get(url, headers=refused["another partner"]).status_code == 404
    assert client.get(url, headers=refused["another agency's manager"]).status_code == 404
    for who in ("another provider", "another agency's manager", "the council's auditor"):
        assert client.put(url, json=body, headers=refused[who]).status_code == 403, who
    for who in ("another provider", "the council's auditor"):
        assert client.get(url, headers=refused[who]).status_code == 403, who
    assert client.put(url, json=body, headers=world.manager_headers).status_code == 403
    assert client.put(url, json=body).status_code == 401


def test_cover_for_a_visit_off_the_half_hour_asks_for_the_slots_it_touches(client, session):
    """Planned visits are in 5-minute steps; the matcher's slots are 30 minutes."""
    from agency.visits.planning import plan_arrangement
    from tests.continuity.continuity_helpers import EVERY_DAY_TEN
    from tests.visits.visit_helpers import make_world

    world = make_world(session, schedule=EVERY_DAY_TEN, minutes_per_week=7 * 25)
    plan_arrangement(session, world.arrangement, now=dt.datetime.now(dt.UTC))
    session.commit()
    cover = make_provider(session, world.agency)
    days = _weekdays_ahead(3)
    _away(session, world, days[0], days[-1])
    target = next(p for p in planned(session, world) if p.date == days[0])
    assert (target.start_time, target.end_time) == ("10:00", "10:25")
    suggestions = client.get(
        f"/planned-visits/{target.id}/cover-suggestions", headers=world.manager_headers
    )
    assert suggestions.status_code == 200, suggestions.json
    assert cover.id in {s["provider_id"] for s in suggestions.json}


AUTUMN_CHANGE = dt.date(2027, 10, 31)  # a Sunday of 25 hours in London


def _sunday_visit(session, world: World, provider, start, end, day=AUTUMN_CHANGE):  # type: ignore[no-untyped-def]
    """The one planned visit, on Sunday ``day``, of a new weekly ``start``-``end``
    arrangement of ``provider``."""
    seeker = make_seeker(session, world.seeker.partner_client_id)
    arrangement = make_arrangement(
        session,
        world.agency,
        provider,
        seeker,
        schedule=[{"weekday": 6, "start": start, "end": end}],
        start_date=day - dt.timedelta(days=28),
        minutes_per_week=minutes_of_day(end) - minutes_of_day(start),
    )
    the_day_before = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(hours=12)
    plan_arrangement(session, arrangement, now=the_day_before, horizon_days=2)
    session.commit()
    return session.scalars(
        select(PlannedVisit).where(PlannedVisit.arrangement_id == arrangement.id)
    ).one()


def test_a_provider_planned_all_of_a_25_hour_day_is_busy_at_its_last_half_hour(session):
    """The busy search starts the longest planned visit (25 hours) before the visit."""
    world = make_world(session)
    target = _sunday_visit(session, world, world.provider, "23:30", "24:00")
    own, cover = make_provider(session, world.agency), make_provider(session, world.agency)
    whole_day = _sunday_visit(session, world, own, "00:00", "24:00")
    assert whole_day.ends_at - whole_day.starts_at == dt.timedelta(hours=25)
    assert target.starts_at - whole_day.starts_at == dt.timedelta(hours=24, minutes=30)
    whole_day.cover_provider_id, whole_day.cover_status = cover.id, CoverStatus.ACCEPTED
    session.commit()
    assert cover_service._busy(session, target, [own.id, cover.id]) == {own.id, cover.id}


def test_a_provider_whose_planned_visits_ended_before_the_visit_is_not_busy(session):
    world = make_world(session)
    target = _sunday_visit(session, world, world.provider, "23:30", "24:00")
    until_then, last_week = (
        make_provider(session, world.agency),
        make_provider(session, world.agency),
    )
    _sunday_visit(session, world, until_then, "00:00", "23:30")
    _sunday_visit(session, world, last_week, "00:00", "24:00", AUTUMN_CHANGE - dt.timedelta(days=7))
    assert cover_service._busy(session, target, [until_then.id, last_week.id]) == set()
