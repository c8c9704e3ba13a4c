"""Prompt payment: median, 90th percentile and worst days to paid; invoices waiting too long."""

from __future__ import annotations

import datetime as dt

import pytest

from agency.reports.prompt_payment import prompt_payment
from agency.reports.scope import resolve_scope
from tests.factories import (
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
    principal_of,
)
from tests.reports.report_data import make_arrangement, make_invoice

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PERIOD = {"period_start": dt.date(2026, 9, 1), "period_end": dt.date(2026, 10, 31)}


@pytest.fixture
def world(session):
    council = make_council(session)
    a = make_agency(session, council, name="Agency A")
    b = make_agency(session, council, name="Agency B")
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    arrangements = {}
    for agency in (a, b):
        provider = make_provider(session, agency, trading_name=f"Helpers of {agency.name}")
        request = make_care_request(session, seeker, agency)
        arrangements[agency.id] = make_arrangement(session, request, provider)

    def paid(agency, day, days):
        paid_at = dt.datetime(2026, *day, 10, 0, tzinfo=UTC)
        make_invoice(
            session,
            arrangements[agency.id],
            1000,
            approved_at=paid_at - dt.timedelta(days=days, hours=1),
            paid_at=paid_at,
        )

    for days in (2, 5, 10):
        paid(a, (9, 15), days)
    for days in (1, 3, 4, 30):
        paid(a, (10, 15), days)
    paid(b, (10, 20), 7)
    paid(a, (11, 2), 99)  # paid after the period
    for days, pence in ((20, 4500), (15, 3000), (10, 2500)):
        make_invoice(session, arrangements[a.id], pence, approved_at=NOW - dt.timedelta(days=days))
    return {"council": council, "a": a, "b": b}


def _report(session, user, **options):
    scope = resolve_scope(session, principal_of(session, user), now=NOW, **PERIOD)
    return prompt_payment(session, scope, **options)


def _figures(block):
    return (block["invoices"], block["median_days"], block["p90_days"], block["worst_days"])


def test_a_manager_sees_days_to_paid_per_month_and_overall(session, world):
    report = _report(session, make_manager(session, world["a"]))
    assert _figures(report["total"]) == (7, 4.0, 18.0, 30.0)
    (agency,) = report["agencies"]
    assert _figures(agency) == (7, 4.0, 18.0, 30.0)
    assert [(m["month"], *_figures(m)) for m in agency["months"]] == [
        ("2026-09", 3, 5.0, 9.0, 10.0),
        ("2026-10", 4, 3.5, 22.2, 30.0),
    ]


def test_an_auditor_sees_every_agency_and_the_months_across_them(session, world):
    report = _report(session, make_auditor(session, world["council"]))
    assert _figures(report["total"]) == (8, 4.5, 16.0, 30.0)
    assert [(m["month"], *_figures(m)) for m in report["months"]] == [
        ("2026-09", 3, 5.0, 9.0, 10.0),
        ("2026-10", 5, 4.0, 20.8, 30.0),
    ]
    assert {a["agency_name"]: _figures(a) for a in report["agencies"]} == {
        "Agency A": (7, 4.0, 18.0, 30.0),
        "Agency B": (1, 7.0, 7.0, 7.0),
    }


def test_invoices_unpaid_beyond_the_threshold_are_listed_oldest_first(session, world):
    report = _report(session, make_manager(session, world["a"]))
    overdue = report["overdue"]
    assert (overdue["invoices"], overdue["amount_pence"]) == (2, 7500)
    assert [
        (i["provider_trading_name"], i["days_waiting"], i["amount_pence"])
        for i in overdue["listed"]
    ] == [("Helpers of Agency A", 20, 4500), ("Helpers of Agency A", 15, 3000)]
    stricter = _report(session, make_manager(session, world["a"]), threshold_days=16)
    assert stricter["overdue"]["amount_pence"] == 4500
    other = _report(session, make_manager(session, world["b"]))
    assert other["overdue"]["invoices"] == 0


def test_the_threshold_is_validated(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    response = client.get(
        "/reports/prompt-payment", query_string={"threshold_days": 0}, headers=headers
    )
    assert response.status_code == 422
    assert "threshold_days" in response.get_json()["errors"]
    response = client.get(
        "/reports/prompt-payment",
        query_string={"threshold_days": 16, "period_start": "2026-09-01"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["threshold_days"] == 16
    assert response.get_json()["total"]["invoices"] == 8  # to today: November's one too
