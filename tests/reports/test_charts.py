"""Every report renders as a PNG and an SVG that stand on their own (title in the text)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from agency.directory.models import Agency, Locality, Sector, SupplierSize
from tests.factories import (
    bearer,
    make_agency,
    make_care_request,
    make_manager,
    make_neighbourhood,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.reports.report_data import make_arrangement, make_invoice

TITLES = {
    "local-spend": "Local spend: where ISF money paid to providers went",
    "unmet-need": "Unmet need for care at home",
    "funnel": "The matching funnel",
    "prompt-payment": "Prompt payment: days from approval to provider paid",
    "fairness": "Fairness of work: how hours spread across providers",
}
QUERY = {"period_start": "2026-01-01", "period_end": "2026-12-31"}


@pytest.fixture
def headers(session):
    agency = make_agency(session, name="Bedminster Agency")
    hood = make_neighbourhood(session, agency, name="Bedminster")
    provider = make_provider(
        session, agency, size=SupplierSize.MICRO, sector=Sector.VCSE, locality=Locality.REGION
    )
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    request = make_care_request(
        session,
        seeker,
        agency,
        neighbourhood_id=hood.id,
        created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    make_care_request(
        session,
        seeker,
        agency,
        neighbourhood_id=hood.id,
        created_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
    )
    arrangement = make_arrangement(session, request, provider)
    paid_at = dt.datetime(2026, 6, 20, tzinfo=dt.UTC)
    make_invoice(
        session, arrangement, 4321, approved_at=paid_at - dt.timedelta(days=4), paid_at=paid_at
    )
    return bearer(session, make_manager(session, agency))


@pytest.mark.parametrize("name", sorted(TITLES))
def test_each_report_renders_a_png_and_an_svg_with_its_title(client, headers, name):
    png = client.get(f"/reports/{name}.png", query_string=QUERY, headers=headers)
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.data) > 10_000
    svg = client.get(f"/reports/{name}.svg", query_string=QUERY, headers=headers)
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "<svg" in text[:1000]
    assert len(text) > 10_000
    assert TITLES[name] in text.replace("&amp;", "&")
    assert "1 Jan 2026 to 31 Dec 2026" in text
    assert "Bedminster Agency" in text


@pytest.mark.parametrize("name", sorted(TITLES))
def test_each_chart_renders_with_no_data_at_all(client, session, name):
    empty = bearer(session, make_manager(session))
    response = client.get(f"/reports/{name}.svg", query_string=QUERY, headers=empty)
    assert response.status_code == 200
    assert TITLES[name] in response.get_data(as_text=True).replace("&amp;", "&")


def test_a_chart_is_drawn_once_per_distinct_figures_and_redrawn_when_they_change(
    client, session, headers, monkeypatch
):
    from agency.reports import charts

    monkeypatch.setattr(charts, "_DRAWN", type(charts._DRAWN)())
    drawings = []
    real = charts.CHARTS["local-spend"]
    monkeypatch.setitem(
        charts.CHARTS, "local-spend", lambda report: drawings.append(report) or real(report)
    )

    def svg():  # type: ignore[no-untyped-def]
        response = client.get("/reports/local-spend.svg", query_string=QUERY, headers=headers)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    first, again = svg(), svg()
    assert again == first and len(drawings) == 1  # same figures: the drawing is reused
    agency = session.scalar(select(Agency).where(Agency.name == "Bedminster Agency"))
    provider = make_provider(session, agency, locality=Locality.REGION)
    request = make_care_request(
        session,
        make_seeker(session, make_partner(session)[0].id),
        agency,
        created_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
    )
    paid_at = dt.datetime(2026, 7, 20, tzinfo=dt.UTC)
    make_invoice(
        session,
        make_arrangement(session, request, provider),
        98765,
        approved_at=paid_at - dt.timedelta(days=2),
        paid_at=paid_at,
    )
    session.commit()
    changed = svg()  # one more invoice paid: new figures, drawn anew
    assert len(drawings) == 2 and changed != first
    assert drawings[1]["total"] != drawings[0]["total"]
