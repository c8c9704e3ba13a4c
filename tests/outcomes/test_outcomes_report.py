"""The outcomes report against a hand-computed data set: exact figures, suppression, access.

Period 1-30 Nov 2026. Agency A (council C), baselines on 1 Oct:

    arr  funding      services                     life  ->  follow-up   anxiety  worthwhile
    A1   self_funded  companionship                4 -> 6 (+2)*        8 -> 6    5 -> 7
    A2   self_funded  companionship                5 -> 6 (+1)**       8 -> 7    5 -> 5
    A3   self_funded  companionship                6 -> 6 (0)          8 -> 8    5 -> 4
    A4   self_funded  companionship                3 -> 6 (+3)         8 -> 9    -
    A5   self_funded  companionship                7 -> 6 (-1)         8 -> 5    -
    A6   isf          companionship + shopping     5 -> 9 (+4)         8 -> -    -
    A7   self_funded  companionship                baseline only

    * an earlier review on 10 Nov (life 9) is superseded by the latest, on 20 Nov
    ** a review on 15 Oct (life 10), before the period, is ignored

Life satisfaction, all: changes 2, 1, 0, 3, -1, 4: n 6, mean 1.5, s^2 = 17.5 / 5 = 3.5,
se = 1.8708 / sqrt 6 = 0.7638, t(0.975, 5) = 2.5706: 1.5 -/+ 1.9633 = (-0.46, 3.46);
improving 4 of 6. Self-funded only: 2, 1, 0, 3, -1: mean 1.0, s^2 = 2.5, se = 0.7071,
t(0.975, 4) = 2.7764: 1.0 -/+ 1.9632 = (-0.96, 2.96); 3 of 5. Anxiety (lower is better):
-2, -1, 0, 1, -3: mean -1.0, (-2.96, 0.96), improving 3 of 5. Worthwhile: 3 pairs,
suppressed; happiness: no answers. Agency B (same council) adds one pair, life 2 -> 10.
"""

from __future__ import annotations

import datetime as dt

import pytest

from agency.accounts.models import User
from agency.outcomes.models import Occasion
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_arrangement,
    make_auditor,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.outcomes.outcomes_helpers import make_assessment

B, R = Occasion.BASELINE, Occasion.REVIEW
BASE_DAY, REVIEW_DAY = dt.date(2026, 10, 1), dt.date(2026, 11, 20)
PERIOD = {"period_start": "2026-11-01", "period_end": "2026-11-30"}


@pytest.fixture
def world(session):
    council = make_council(session)
    a = make_agency(session, council, name="Agency A")
    b = make_agency(session, council, name="Agency B")
    partner, secret = make_partner(session)
    provider = make_provider(session, a)

    def arrangement(agency, funding="self_funded", rates=None):
        seeker = make_seeker(session, partner.id)
        return make_arrangement(session, agency, provider, seeker, funding=funding, rates=rates)

    rows = [  # (life, life after, anxiety, anxiety after, worthwhile, worthwhile after)
        (4, 6, 8, 6, 5, 7),
        (5, 6, 8, 7, 5, 5),
        (6, 6, 8, 8, 5, 4),
        (3, 6, 8, 9, None, None),
        (7, 6, 8, 5, None, None),
    ]
    arrangements = []
    for life, life2, anx, anx2, worth, worth2 in rows:
        arr = arrangement(a)
        arrangements.append(arr)
        make_assessment(
            session, arr, B, BASE_DAY, life_satisfaction=life, anxiety=anx, worthwhile=worth
        )
        make_assessment(
            session, arr, R, REVIEW_DAY, life_satisfaction=life2, anxiety=anx2, worthwhile=worth2
        )
    make_assessment(session, arrangements[0], R, dt.date(2026, 11, 10), life_satisfaction=9)
    make_assessment(session, arrangements[1], R, dt.date(2026, 10, 15), life_satisfaction=10)
    a6 = arrangement(a, "isf", {"companionship": 1850, "shopping_errands": 1850})
    make_assessment(session, a6, B, BASE_DAY, life_satisfaction=5, anxiety=8)
    make_assessment(session, a6, R, REVIEW_DAY, life_satisfaction=9)
    a7 = arrangement(a)
    make_assessment(session, a7, B, BASE_DAY, life_satisfaction=5)
    b1 = arrangement(b)
    make_assessment(session, b1, B, BASE_DAY, life_satisfaction=2)
    make_assessment(session, b1, R, REVIEW_DAY, life_satisfaction=10)
    return {"council": council, "a": a, "b": b, "partner": api_key(secret), "provider": provider}


def _measures(group):
    return {
        m["measure"]: (
            m["pairs"],
            m["mean_change"],
            m["ci_low"],
            m["ci_high"],
            m["share_improving"],
            m["suppressed"],
        )
        for m in group["measures"]
    }


def test_a_manager_sees_exact_changes_with_t_intervals(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    response = client.get("/reports/outcomes", query_string=PERIOD, headers=headers)
    assert response.status_code == 200, response.json
    report = response.json
    total = report["total"]
    assert (total["with_baseline"], total["with_follow_up"]) == (7, 6)
    assert _measures(total) == {
        "life_satisfaction": (6, 1.5, -0.46, 3.46, 0.6667, False),
        "worthwhile": (None, None, None, None, None, True),
        "happiness": (0, None, None, None, None, False),
        "anxiety": (5, -1.0, -2.96, 0.96, 0.6, False),
    }
    funding = {g["group"]: g for g in report["by_funding"]}
    assert (funding["isf"]["with_baseline"], funding["isf"]["with_follow_up"]) == (None, None)
    assert _measures(funding["isf"])["life_satisfaction"][:2] == (None, None)
    assert _measures(funding["self_funded"])["life_satisfaction"] == (
        5,
        1.0,
        -0.96,
        2.96,
        0.6,
        False,
    )
    mixes = {
        g["group"]: (g["with_baseline"], g["with_follow_up"]) for g in report["by_service_mix"]
    }
    assert mixes == {"companionship": (6, 5), "companionship + shopping_errands": (None, None)}


def test_an_auditor_sees_the_councils_aggregates_and_no_person(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    response = client.get("/reports/outcomes", query_string=PERIOD, headers=headers)
    assert response.status_code == 200
    total = response.json["total"]
    assert (total["with_baseline"], total["with_follow_up"]) == (8, 7)
    assert _measures(total)["life_satisfaction"][:2] == (7, 2.43)  # 17 / 7
    assert "skr_" not in response.get_data(as_text=True)
    assert "arr_" not in response.get_data(as_text=True)


def test_the_report_comes_as_csv_and_as_a_chart(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    csv = client.get("/reports/outcomes.csv", query_string=PERIOD, headers=headers)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("breakdown,group,with_baseline,with_follow_up,measure,pairs")
    assert "all,all,7,6,life_satisfaction,6,1.5,-0.46,3.46,0.6667,False" in lines
    png = client.get("/reports/outcomes.png", query_string=PERIOD, headers=headers)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    svg = client.get("/reports/outcomes.svg", query_string=PERIOD, headers=headers)
    assert "suppressed" in svg.get_data(as_text=True)


def test_other_principals_are_refused_the_report(client, session, world):
    other = bearer(session, make_manager(session, world["b"]))
    outsider = bearer(session, make_auditor(session, make_council(session)))
    provider = bearer(session, session.get(User, world["provider"].user_id))
    query = {**PERIOD, "agency_id": world["a"].id}
    assert client.get("/reports/outcomes", query_string=query).status_code == 401
    assert client.get("/reports/outcomes", query_string=query, headers=other).status_code == 404
    assert client.get("/reports/outcomes", query_string=query, headers=outsider).status_code == 404
    assert client.get("/reports/outcomes", headers=world["partner"]).status_code == 403
    assert client.get("/reports/outcomes", headers=provider).status_code == 403
    own = client.get("/reports/outcomes", query_string=PERIOD, headers=other).json["total"]
    assert (own["with_baseline"], own["with_follow_up"]) == (None, None)  # 1 and 1: suppressed
