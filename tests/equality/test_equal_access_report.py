"""The equal-access report against a hand-computed data set, with complement suppression.

Agency A, requests made 2 Nov 2026 (period November), 19 seekers, each one request:

    disability         people  matched (days to match)        open  life pairs (change)
    disabled             10    5 (1, 2, 3, 4, 10)             5     5 (1, 2, 3, 0, 4)
    not_disabled          7    7 (2 each)                     0     -
    prefer_not_to_say     2    2 (20, 30)                     0     -

Whole population: 19 people, 14 of 19 matched = 0.7368; days sorted 1, 2 x 8, 3, 4, 10, 20,
30: median of the 7th and 8th = 2.0; unmet 5; 5 pairs, mean change 2.0.
Disability: prefer_not_to_say (2) is under 5, so suppressed; alone, it could be found as
19 - 10 - 7, so the next smallest non-empty cell, not_disabled (7), is suppressed too.
Sex: 3 male (primary) and 16 female (complement): both withheld. Religion: 4 buddhist and
15 not recorded: both withheld. Age band not recorded by anyone: 19, the population's figures.
"""

from __future__ import annotations

import datetime as dt

import pytest

from agency.accounts.models import User
from agency.equality.models import Disability, EqualityMonitoring, Religion, Sex
from agency.ids import new_id
from agency.outcomes.models import Occasion
from agency.seekers.models import RequestStatus
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.outcomes.outcomes_helpers import make_assessment
from tests.reports.report_data import make_arrangement

ASKED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
PERIOD = {"period_start": "2026-11-01", "period_end": "2026-11-30"}
FIGURES = (
    "people",
    "requests",
    "matched_share",
    "median_days_to_match",
    "unmet_need",
    "life_satisfaction_pairs",
    "mean_life_satisfaction_change",
    "suppressed",
)
WITHHELD = (None, None, None, None, None, None, None, True)
POPULATION = (19, 19, 0.7368, 2.0, 5, 5, 2.0, False)


@pytest.fixture
def world(session):
    council = make_council(session)
    a = make_agency(session, council, name="Agency A")
    partner, secret = make_partner(session)
    provider = make_provider(session, a)
    people = (
        [(Disability.YES, days) for days in (1, 2, 3, 4, 10)]
        + [(Disability.YES, None)] * 5
        + [(Disability.NO, 2)] * 7
        + [(Disability.PREFER_NOT_TO_SAY, days) for days in (20, 30)]
    )
    changes = iter([1, 2, 3, 0, 4])
    for n, (disability, days) in enumerate(people):
        seeker = make_seeker(session, partner.id)
        session.add(
            EqualityMonitoring(
                id=new_id("eqm"),
                seeker_id=seeker.id,
                partner_client_id=partner.id,
                disability=disability,
                sex=Sex.MALE if n >= 16 else Sex.FEMALE,
                religion=Religion.BUDDHIST if n in (10, 11, 12, 13) else None,
            )
        )
        request = make_care_request(
            session,
            seeker,
            a,
            created_at=ASKED,
            matched_at=ASKED + dt.timedelta(days=days) if days is not None else None,
            status=RequestStatus.MATCHED if days is not None else RequestStatus.OPEN,
        )
        if disability is Disability.YES and days is not None:
            arrangement = make_arrangement(session, request, provider)
            base = make_assessment(
                session, arrangement, Occasion.BASELINE, dt.date(2026, 10, 1), life_satisfaction=5
            )
            make_assessment(
                session,
                arrangement,
                Occasion.REVIEW,
                dt.date(2026, 11, 20),
                life_satisfaction=base.life_satisfaction + next(changes),
            )
    # Another council's seeker, with an answer, outside every figure above.
    other = make_agency(session, make_council(session))
    stranger = make_seeker(session, partner.id)
    session.add(
        EqualityMonitoring(
            id=new_id("eqm"),
            seeker_id=stranger.id,
            partner_client_id=partner.id,
            disability=Disability.NO,
        )
    )
    make_care_request(session, stranger, other, created_at=ASKED)
    return {"council": council, "a": a, "partner": api_key(secret), "provider": provider}


def _cells(report, characteristic):
    (block,) = [c for c in report["characteristics"] if c["characteristic"] == characteristic]
    return {cell["category"]: tuple(cell[f] for f in FIGURES) for cell in block["categories"]}


def test_the_manager_sees_each_characteristic_beside_the_population(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    response = client.get("/reports/equal-access", query_string=PERIOD, headers=headers)
    assert response.status_code == 200, response.json
    report = response.json
    assert tuple(report["population"][f] for f in FIGURES) == POPULATION
    assert _cells(report, "disability") == {
        "disabled": (10, 10, 0.5, 3.0, 5, 5, 2.0, False),
        "not_disabled": WITHHELD,  # the complement: 19 - 10 would reveal prefer_not_to_say
        "prefer_not_to_say": WITHHELD,
        "not_recorded": (0, 0, None, None, 0, 0, None, False),
    }
    sex = _cells(report, "sex")
    assert (sex["female"], sex["male"]) == (WITHHELD, WITHHELD)
    religion = _cells(report, "religion")
    assert (religion["buddhist"], religion["not_recorded"]) == (WITHHELD, WITHHELD)
    assert _cells(report, "age_band")["not_recorded"] == POPULATION
    assert "suppressed" in report["suppression_rule"]


def test_no_suppressed_figure_can_be_derived_by_subtraction(client, session, world):
    headers = bearer(session, make_manager(session, world["a"]))
    report = client.get("/reports/equal-access", query_string=PERIOD, headers=headers).json
    for block in report["characteristics"]:
        hidden = [c for c in block["categories"] if c["suppressed"]]
        assert len(hidden) != 1, block["characteristic"]


def test_the_report_comes_as_csv_and_as_a_chart_stating_the_rule(client, session, world):
    headers = bearer(session, make_auditor(session, world["council"]))
    csv = client.get("/reports/equal-access.csv", query_string=PERIOD, headers=headers)
    assert csv.status_code == 200
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[1] == "all,whole population,19,19,0.7368,2.0,5,5,2.0,False"
    assert "disability,not_disabled,,,,,,,,True" in lines
    svg = client.get("/reports/equal-access.svg", query_string=PERIOD, headers=headers)
    text = svg.get_data(as_text=True)
    assert "Suppression" in text and "subtraction" in text
    png = client.get("/reports/equal-access.png", query_string=PERIOD, headers=headers)
    assert png.data.startswith(b"\x89PNG")


def test_other_principals_are_refused_the_report(client, session, world):
    provider = bearer(session, session.get(User, world["provider"].user_id))
    outsider = bearer(session, make_auditor(session, make_council(session)))
    query = {**PERIOD, "agency_id": world["a"].id}
    assert client.get("/reports/equal-access", query_string=query).status_code == 401
    assert client.get("/reports/equal-access", headers=world["partner"]).status_code == 403
    assert client.get("/reports/equal-access", headers=provider).status_code == 403
    assert (
        client.get("/reports/equal-access", query_string=query, headers=outsider).status_code == 404
    )
    other_manager = bearer(session, make_manager(session, make_agency(session, world["council"])))
    own = client.get("/reports/equal-access", query_string=PERIOD, headers=other_manager).json
    assert own["population"]["people"] == 0
