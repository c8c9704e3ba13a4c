"""Local spend: exact pence and shares per circle, size and sector, and who may see them."""

from __future__ import annotations

import datetime as dt

import pytest

from agency.directory.models import Locality, Sector, SupplierSize
from agency.isf.models import InvoiceStatus
from tests.factories import (
    api_key,
    bearer,
    make_admin,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.reports.report_data import make_arrangement, make_invoice

UTC = dt.UTC
PERIOD = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def _paid(session, world, agency, provider, *amounts, paid_at=None):
    request = make_care_request(session, world["seeker"], agency)
    arrangement = make_arrangement(session, request, provider)
    paid_at = paid_at or dt.datetime(2026, 10, 15, 12, tzinfo=UTC)
    for amount in amounts:
        make_invoice(
            session,
            arrangement,
            amount,
            approved_at=paid_at - dt.timedelta(days=3),
            paid_at=paid_at,
        )
    return arrangement


@pytest.fixture
def world(session):
    council, other_council = make_council(session), make_council(session)
    a = make_agency(session, council, name="Agency A")
    b = make_agency(session, council, name="Agency B")
    x = make_agency(session, other_council, name="Agency X")
    partner, secret = make_partner(session)
    world = {"a": a, "b": b, "x": x, "council": council, "other_council": other_council}
    world["partner_auth"] = api_key(secret)
    world["seeker"] = make_seeker(session, partner.id)

    def provider(agency, locality, size, sector, basis="boundary"):
        return make_provider(
            session, agency, locality=locality, size=size, sector=sector, locality_basis=basis
        )

    p1 = provider(a, Locality.COUNCIL_AREA, SupplierSize.SOLE_TRADER, Sector.VCSE)
    p2 = provider(a, Locality.COMBINED_AUTHORITY, SupplierSize.MICRO, Sector.SOCIAL_ENTERPRISE)
    p3 = provider(a, Locality.REGION, SupplierSize.SMALL, Sector.PRIVATE)
    p4 = provider(
        a, Locality.NATIONAL, SupplierSize.LARGER, Sector.PRIVATE, "no council area configured"
    )
    p5 = provider(b, Locality.COUNCIL_AREA, SupplierSize.MICRO, Sector.VCSE)
    p6 = provider(x, Locality.COUNCIL_AREA, SupplierSize.MICRO, Sector.VCSE)
    world["provider"] = p1
    # 23:30 UTC on 30 September is 00:30 on 1 October in London: inside the period.
    arrangement = _paid(
        session, world, a, p1, 12345, paid_at=dt.datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    )
    make_invoice(
        session,
        arrangement,
        10000,
        approved_at=dt.datetime(2026, 10, 20, tzinfo=UTC),
        paid_at=dt.datetime(2026, 10, 31, 22, 59, tzinfo=UTC),  # 22:59 GMT: last minute
    )
    # Outside the period (23:59 BST on 30 September), unpaid, void: none of them count.
    make_invoice(
        session,
        arrangement,
        777,
        approved_at=dt.datetime(2026, 9, 20, tzinfo=UTC),
        paid_at=dt.datetime(2026, 9, 30, 22, 59, tzinfo=UTC),
    )
    make_invoice(session, arrangement, 888, approved_at=dt.datetime(2026, 10, 2, tzinfo=UTC))
    make_invoice(
        session,
        arrangement,
        999,
        approved_at=dt.datetime(2026, 10, 2, tzinfo=UTC),
        status=InvoiceStatus.VOID,
    )
    _paid(session, world, a, p2, 7655)
    _paid(session, world, a, p3, 5000)
    _paid(session, world, a, p4, 15000)
    _paid(session, world, b, p5, 3333)
    _paid(session, world, x, p6, 99999)
    return world


def _by(block, dimension):
    return {i["category"]: (i["amount_pence"], i["share"]) for i in block[f"by_{dimension}"]}


def test_a_manager_sees_their_agencys_spend_by_circle_size_and_sector_to_the_penny(
    client, session, world
):
    headers = bearer(session, make_manager(session, world["a"]))
    response = client.get("/reports/local-spend", query_string=PERIOD, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    total = body["total"]
    assert total["amount_pence"] == 50000
    assert total["invoices"] == 5
    assert _by(total, "locality") == {
        "council_area": (22345, 0.4469),
        "combined_authority": (7655, 0.1531),
        "region": (5000, 0.1),
        "national": (15000, 0.3),
    }
    assert _by(total, "size") == {
        "sole_trader": (22345, 0.4469),
        "micro": (7655, 0.1531),
        "small": (5000, 0.1),
        "larger": (15000, 0.3),
    }
    assert _by(total, "sector") == {
        "vcse": (22345, 0.4469),
        "social_enterprise": (7655, 0.1531),
        "private": (20000, 0.4),
    }
    assert (total["vcse_amount_pence"], total["vcse_share"]) == (22345, 0.4469)
    assert (total["micro_amount_pence"], total["micro_share"]) == (30000, 0.6)
    assert [a["agency_id"] for a in body["agencies"]] == [world["a"].id]
    assert body["placement"] == [
        {"locality": "combined_authority", "locality_basis": "boundary", "providers": 1},
        {"locality": "council_area", "locality_basis": "boundary", "providers": 1},
        {
            "locality": "national",
            "locality_basis": "no council area configured",
            "providers": 1,
        },
        {"locality": "region", "locality_basis": "boundary", "providers": 1},
    ]
    assert body["scope"]["agency_id"] == world["a"].id


def test_an_auditor_sees_every_agency_of_their_council_and_no_other(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    body = client.get("/reports/local-spend", query_string=PERIOD, headers=headers).get_json()
    assert body["total"]["amount_pence"] == 53333
    assert _by(body["total"], "locality")["council_area"] == (25678, 0.4815)
    assert (body["total"]["micro_amount_pence"], body["total"]["micro_share"]) == (33333, 0.625)
    assert (body["total"]["vcse_amount_pence"], body["total"]["vcse_share"]) == (25678, 0.4815)
    amounts = {a["agency_name"]: a["amount_pence"] for a in body["agencies"]}
    assert amounts == {"Agency A": 50000, "Agency B": 3333}


def test_an_admin_sees_every_council(client, session, world):
    headers = bearer(session, make_admin(session))
    body = client.get("/reports/local-spend", query_string=PERIOD, headers=headers).get_json()
    assert body["total"]["amount_pence"] == 153332


def test_the_agency_filter_narrows_an_auditors_report(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    query = {**PERIOD, "agency_id": world["b"].id}
    body = client.get("/reports/local-spend", query_string=query, headers=headers).get_json()
    assert body["total"]["amount_pence"] == 3333


def test_a_manager_asking_for_another_agency_gets_404(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    query = {**PERIOD, "agency_id": world["b"].id}
    response = client.get("/reports/local-spend", query_string=query, headers=headers)
    assert response.status_code == 404


def test_an_auditor_asking_for_another_councils_agency_gets_404(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    query = {**PERIOD, "agency_id": world["x"].id}
    response = client.get("/reports/local-spend.csv", query_string=query, headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name", ["local-spend", "unmet-need", "funnel", "prompt-payment", "fairness"]
)
def test_partners_and_providers_may_not_read_reports(client, session, world, name):
    from agency.accounts.models import User

    provider_headers = bearer(session, session.get(User, world["provider"].user_id))
    for headers in (world["partner_auth"], provider_headers):
        assert client.get(f"/reports/{name}", headers=headers).status_code == 403
        assert client.get(f"/reports/{name}.png", headers=headers).status_code == 403
    assert client.get(f"/reports/{name}").status_code == 401


def test_the_csv_has_one_row_per_agency_dimension_and_category(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    query = {**PERIOD, "format": "csv"}
    response = client.get("/reports/local-spend", query_string=query, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "agency_id,agency_name,dimension,category,amount_pence,share"
    assert ",all,locality,council_area,22345,0.4469" in lines
    assert f"{world['a'].id},Agency A,sector,private,20000,0.4" in lines
    assert len(lines) == 1 + 2 * 11
    same = client.get("/reports/local-spend.csv", query_string=PERIOD, headers=headers)
    assert same.get_data(as_text=True) == response.get_data(as_text=True)


def test_filters_are_validated_naming_the_field(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    backwards = {"period_start": "2026-10-31", "period_end": "2026-10-01"}
    response = client.get("/reports/local-spend", query_string=backwards, headers=headers)
    assert response.status_code == 422
    assert "period_end" in response.get_json()["errors"]
    response = client.get(
        "/reports/local-spend", query_string={"service": "juggling"}, headers=headers
    )
    assert response.status_code == 422
    assert "service" in response.get_json()["errors"]
    response = client.get(
        "/reports/local-spend", query_string={"period_start": "yesterday"}, headers=headers
    )
    assert response.status_code == 422
    assert "period_start" in response.get_json()["errors"]


def test_neighbourhood_and_service_filters_follow_the_arrangements_care_request(
    client, session, world
):
    from tests.factories import make_neighbourhood

    hood = make_neighbourhood(session, world["a"], ("BS4",), name="Knowle")
    request = make_care_request(
        session,
        world["seeker"],
        world["a"],
        neighbourhood_id=hood.id,
        services=["personal_care", "companionship"],
    )
    arrangement = make_arrangement(session, request, world["provider"])
    paid_at = dt.datetime(2026, 10, 10, tzinfo=UTC)
    make_invoice(session, arrangement, 4242, approved_at=paid_at, paid_at=paid_at)
    headers = bearer(session, make_manager(session, world["a"]))
    for query in ({"neighbourhood_id": hood.id}, {"service": "personal_care"}):
        body = client.get(
            "/reports/local-spend", query_string={**PERIOD, **query}, headers=headers
        ).get_json()
        assert body["total"]["amount_pence"] == 4242
        assert body["scope"]["description"].startswith("Agency A · ")
    body = client.get(
        "/reports/local-spend",
        query_string={**PERIOD, "service": "companionship"},
        headers=headers,
    ).get_json()
    assert body["total"]["amount_pence"] == 54242
