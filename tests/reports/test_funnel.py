"""The matching funnel: counts, conversion, median hours to each step, decline reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from agency.introductions.models import IntroductionStatus as I
from agency.reports.funnel import funnel
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
from tests.introductions.introductions_helpers import make_suggestion
from tests.reports.report_data import T0, make_arrangement, make_introduction

PERIOD = {"period_start": dt.date(2026, 10, 1), "period_end": dt.date(2026, 10, 31)}


def _at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def world(session):
    council = make_council(session)
    agency = make_agency(session, council, name="Agency A")
    other = make_agency(session, council, name="Agency B")
    provider = make_provider(session, agency)
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)

    def request(agency=agency, created_at=T0):
        return make_care_request(session, seeker, agency, created_at=created_at)

    def suggested(req, hours):
        make_suggestion(session, req, provider, created_at=_at(hours))

    def introduced(req, hours, status, reason=None, **kw):
        return make_introduction(
            session, req, provider, status, created_at=_at(hours), decline_reason=reason, **kw
        )

    q1 = request()
    suggested(q1, 2)
    suggested(q1, 3)  # a later run: the first suggestion counts
    introduced(q1, 10, I.CONFIRMED)
    make_arrangement(session, q1, provider, created_at=_at(50))
    q2 = request()
    suggested(q2, 4)
    introduced(q2, 20, I.PROVIDER_DECLINED, "Too far")
    introduced(q2, 30, I.AWAITING_SEEKER)
    q3 = request()
    suggested(q3, 6)
    request()  # q4: nothing yet
    q5 = request()
    suggested(q5, 1)
    introduced(q5, 5, I.SEEKER_DECLINED, "Prefers a woman carer")
    q6 = request()
    suggested(q6, 3)
    introduced(q6, 8, I.PROVIDER_DECLINED, "Too far")
    q7 = request()
    introduced(q7, 12, I.PROVIDER_DECLINED)  # off-list, no reason given
    q8 = request()
    introduced(q8, 40, I.WITHDRAWN)  # withdrawn before the provider answered: not accepted
    old = request(created_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))  # before the period
    introduced(old, 1, I.PROVIDER_DECLINED, "Too far")
    elsewhere = request(agency=other)
    suggested(elsewhere, 1)
    return {"council": council, "agency": agency, "other": other}


def test_the_funnel_counts_each_step_with_conversion(session, world):
    user = make_manager(session, world["agency"])
    report = funnel(session, resolve_scope(session, principal_of(session, user), **PERIOD))
    steps = [
        (s["step"], s["count"], s["conversion_from_previous"], s["conversion_from_requests"])
        for s in report["steps"]
    ]
    assert steps == [
        ("requests", 8, 1.0, 1.0),
        ("suggested", 5, 0.625, 0.625),
        ("introduced", 6, 1.2, 0.75),
        ("accepted", 3, 0.5, 0.375),
        ("arrangements", 1, 0.3333, 0.125),
    ]
    assert report["median_hours"] == {
        "to_first_suggestion": 3.0,  # 1, 2, 3, 4, 6
        "to_first_introduction": 11.0,  # 5, 8, 10, 12, 20, 40
        "to_arrangement": 50.0,
    }
    assert report["decline_reasons"] == {
        "provider_declined": [
            {"reason": "Too far", "count": 2},
            {"reason": "(no reason given)", "count": 1},
        ],
        "seeker_declined": [{"reason": "Prefers a woman carer", "count": 1}],
    }


def test_an_auditor_sees_both_agencies_of_their_council(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    query = {"period_start": "2026-10-01", "period_end": "2026-10-31"}
    response = client.get("/reports/funnel", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    steps = {s["step"]: s["count"] for s in response.get_json()["steps"]}
    assert (steps["requests"], steps["suggested"]) == (9, 6)
    csv = client.get("/reports/funnel.csv", query_string=query, headers=headers)
    assert csv.get_data(as_text=True).splitlines()[1] == "requests,9,1.0,1.0"


def test_an_empty_funnel_has_no_medians(session, world):
    user = make_manager(session, world["agency"])
    scope = resolve_scope(
        session,
        principal_of(session, user),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 1, 31),
    )
    report = funnel(session, scope)
    assert [s["count"] for s in report["steps"]] == [0, 0, 0, 0, 0]
    assert report["median_hours"]["to_first_suggestion"] is None
