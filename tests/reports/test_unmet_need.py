"""Unmet need: requests and hours by neighbourhood, waits, and where supply is shortest."""

from __future__ import annotations

import datetime as dt

import pytest

from agency.providers.models import ListingStatus
from agency.reports.scope import resolve_scope
from agency.reports.unmet_need import unmet_need
from agency.seekers.models import RequestStatus
from tests.factories import (
    bearer,
    make_admin,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_neighbourhood,
    make_partner,
    make_provider,
    make_seeker,
    principal_of,
)
from tests.reports.report_data import make_arrangement

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
PERIOD = {"period_start": dt.date(2026, 1, 1), "period_end": dt.date(2026, 11, 20)}


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def world(session):
    council = make_council(session)
    a = make_agency(session, council, name="Agency A")
    b = make_agency(session, council, name="Agency B")
    n1 = make_neighbourhood(session, a, ("BS3",), name="Bedminster")
    n2 = make_neighbourhood(session, a, ("BS4",), name="Knowle")
    n3 = make_neighbourhood(session, None, ("BS11",), council_id=council.id, name="Avonmouth")
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)

    def request(hood, agency, services, minutes, days, **kw):
        return make_care_request(
            session,
            seeker,
            agency,
            neighbourhood_id=hood.id if hood else None,
            services=services,
            minutes_per_week=minutes,
            created_at=_ago(days),
            **kw,
        )

    request(n1, a, ["companionship"], 120, 10)
    request(n1, a, ["companionship", "personal_care"], 90, 4, status=RequestStatus.MATCHING)
    placed = request(n1, a, ["companionship"], 300, 20)
    request(n1, a, ["companionship"], 600, 3, status=RequestStatus.MATCHED)
    request(n2, a, ["shopping_errands"], 60, 2)
    request(n3, None, ["companionship"], 30, 30, council_id=council.id, outcode="BS11")
    request(None, None, ["companionship"], 45, 1, outcode="BS35")  # no council at all
    request(n1, a, ["companionship"], 999, 400)  # made before the period
    # Supply: pa has 10 h, 3 h of it committed (current terms; the first terms were 1 h).
    pa = make_provider(
        session,
        a,
        capacity_hours_per_week=10.0,
        rates={"companionship": 1800, "shopping_errands": 1800},
    )
    make_arrangement(session, placed, pa, 180, earlier_minutes=60)
    # pb: 2 h, all taken (4 h at Agency B): no spare hours, never negative.
    pb = make_provider(session, a, capacity_hours_per_week=2.0, rates={"companionship": 1800})
    elsewhere = make_care_request(session, seeker, b, status=RequestStatus.MATCHED)
    make_arrangement(session, elsewhere, pb, 240)
    # pc offers personal care but is not approved.
    make_provider(
        session,
        a,
        capacity_hours_per_week=5.0,
        rates={"personal_care": 2200},
        status=ListingStatus.APPLIED,
    )
    return {"council": council, "a": a, "b": b, "n1": n1, "n2": n2, "n3": n3}


def _report(session, user, **filters):
    scope = resolve_scope(session, principal_of(session, user), now=NOW, **PERIOD, **filters)
    return unmet_need(session, scope)


def test_an_auditor_sees_unmet_hours_and_waits_by_neighbourhood(session, world):
    report = _report(session, make_auditor(session, world["council"]))
    assert report["requests"] == 4
    assert report["hours_per_week"] == 5.0
    areas = {a["label"]: a for a in report["areas"]}
    assert set(areas) == {"Bedminster", "Knowle", "not covered by any agency (Avonmouth)"}
    bedminster = areas["Bedminster"]
    assert (bedminster["requests"], bedminster["hours_per_week"]) == (2, 3.5)
    assert (bedminster["median_wait_days"], bedminster["max_wait_days"]) == (7.0, 10.0)
    assert (areas["Knowle"]["median_wait_days"], areas["Knowle"]["max_wait_days"]) == (2.0, 2.0)
    avonmouth = areas["not covered by any agency (Avonmouth)"]
    assert avonmouth["covered"] is False
    assert avonmouth["outcode"] == "BS11"
    assert (avonmouth["requests"], avonmouth["hours_per_week"]) == (1, 0.5)
    assert avonmouth["max_wait_days"] == 30.0


def test_supply_shortage_compares_requested_with_spare_provider_hours(session, world):
    report = _report(session, make_auditor(session, world["council"]))
    rows = [
        (
            r["neighbourhood_name"],
            r["service"],
            r["requested_hours"],
            r["available_hours"],
            r["ratio"],
        )
        for r in report["shortage"]
    ]
    assert rows == [
        ("Bedminster", "personal_care", 1.5, 0.0, None),
        ("Bedminster", "companionship", 3.5, 7.0, 0.5),
        ("Knowle", "shopping_errands", 1.0, 7.0, 0.143),
    ]
    assert report["shortest"] == report["shortage"][:5]


def test_an_admin_also_sees_requests_from_places_no_council_holds(session, world):
    report = _report(session, make_admin(session))
    labels = {a["label"]: a["requests"] for a in report["areas"]}
    assert labels["not covered by any agency (BS35)"] == 1
    assert report["requests"] == 5


def test_a_manager_sees_only_their_agencys_neighbourhoods(session, world):
    report = _report(session, make_manager(session, world["a"]))
    assert {a["label"] for a in report["areas"]} == {"Bedminster", "Knowle"}
    assert report["hours_per_week"] == 4.5


def test_neighbourhood_and_service_filters(session, world):
    user = make_auditor(session, world["council"])
    report = _report(session, user, neighbourhood_id=world["n1"].id, service="personal_care")
    assert [(a["label"], a["requests"], a["hours_per_week"]) for a in report["areas"]] == [
        ("Bedminster", 1, 1.5)
    ]
    assert [(r["service"], r["requested_hours"]) for r in report["shortage"]] == [
        ("personal_care", 1.5)
    ]


def test_a_manager_filtering_on_another_agencys_neighbourhood_gets_404(client, session, world):
    other = make_neighbourhood(session, world["b"], ("BS5",))
    headers = bearer(session, make_manager(session, world["a"]))
    response = client.get(
        "/reports/unmet-need", query_string={"neighbourhood_id": other.id}, headers=headers
    )
    assert response.status_code == 404


def test_the_unmet_need_report_over_http_and_csv(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    query = {"period_start": "2026-01-01", "period_end": "2026-11-20"}
    response = client.get("/reports/unmet-need", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["requests"] == 3
    csv = client.get("/reports/unmet-need.csv", query_string=query, headers=headers)
    csv = csv.get_data(as_text=True)
    assert csv.splitlines()[0].startswith("neighbourhood_id,label,covered,outcode,requests")
    assert len(csv.splitlines()) == 3
