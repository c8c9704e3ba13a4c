"""Recording ONS4 answers: who may, with which consent, and what is refused."""

from __future__ import annotations

import pytest

from agency.accounts.models import User
from agency.outcomes.models import WellbeingAssessment
from tests.factories import (
    api_key,
    bearer,
    make_admin,
    make_agency,
    make_arrangement,
    make_auditor,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.outcomes.outcomes_helpers import consent_to

BASELINE = {
    "occasion": "baseline",
    "assessed_on": "2026-11-02",
    "life_satisfaction": 4,
    "worthwhile": 5,
    "happiness": None,
    "anxiety": 8,
}


@pytest.fixture
def world(session):
    council = make_council(session)
    agency = make_agency(session, council)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    consent_to(session, seeker, "outcomes")
    provider = make_provider(session, agency)
    arrangement = make_arrangement(session, agency, provider, seeker)
    return {
        "council": council,
        "agency": agency,
        "partner": api_key(secret),
        "seeker": seeker,
        "provider": provider,
        "arrangement": arrangement,
        "url": f"/arrangements/{arrangement.id}/wellbeing",
    }


def test_the_partner_records_a_baseline_and_a_review(client, session, world):
    response = client.post(world["url"], json=BASELINE, headers=world["partner"])
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["occasion"], body["life_satisfaction"], body["happiness"]) == ("baseline", 4, None)
    assert body["recorded_by"] == "partner"
    review = {"occasion": "review", "assessed_on": "2026-11-20", "anxiety": 5}
    assert client.post(world["url"], json=review, headers=world["partner"]).status_code == 201
    listed = client.get(world["url"], headers=world["partner"]).json
    assert [(a["occasion"], a["anxiety"]) for a in listed] == [("baseline", 8), ("review", 5)]


def test_the_agencys_manager_records_answers(client, session, world):
    headers = bearer(session, make_manager(session, world["agency"]))
    response = client.post(world["url"], json=BASELINE, headers=headers)
    assert response.status_code == 201
    assert response.json["recorded_by"] == "manager"
    assert len(client.get(world["url"], headers=headers).json) == 1


def test_without_consent_to_outcomes_nothing_is_recorded(client, session, world):
    consent_to(session, world["seeker"])  # a newer version without "outcomes"
    response = client.post(world["url"], json=BASELINE, headers=world["partner"])
    assert response.status_code == 409
    assert response.json["code"] == "consent_required"
    assert session.query(WellbeingAssessment).count() == 0


def test_a_second_baseline_is_a_conflict(client, session, world):
    assert client.post(world["url"], json=BASELINE, headers=world["partner"]).status_code == 201
    response = client.post(world["url"], json=BASELINE, headers=world["partner"])
    assert (response.status_code, response.json["code"]) == (409, "baseline_exists")


@pytest.mark.parametrize(
    "change",
    [
        {"life_satisfaction": 11},
        {"anxiety": -1},
        {"worthwhile": 6.5},
        {"worthwhile": "7"},
        {"occasion": "exit"},
        {"assessed_on": "2099-01-01"},
        {"life_satisfaction": None, "worthwhile": None, "anxiety": None},
    ],
)
def test_invalid_answers_are_refused_with_422(client, world, change):
    response = client.post(world["url"], json={**BASELINE, **change}, headers=world["partner"])
    assert response.status_code == 422


def test_without_credentials_it_is_401_before_422(client, world):
    assert client.post(world["url"], json={"occasion": "x"}).status_code == 401
    assert client.get(world["url"]).status_code == 401


def test_other_principals_are_refused(client, session, world):
    other_partner = api_key(make_partner(session, name="Other")[1])
    other_manager = bearer(session, make_manager(session, make_agency(session, world["council"])))
    other_auditor = bearer(session, make_auditor(session, make_council(session)))
    auditor = bearer(session, make_auditor(session, world["council"]))
    provider = bearer(session, session.get(User, world["provider"].user_id))
    expected = [
        (other_partner, 404),
        (other_manager, 404),
        (other_auditor, 403),  # auditors and providers are refused by kind, before any lookup
        (auditor, 403),  # aggregates only, in the outcomes report
        (provider, 403),
    ]
    for headers, status in expected:
        assert client.post(world["url"], json=BASELINE, headers=headers).status_code == status
        assert client.get(world["url"], headers=headers).status_code == status
    assert session.query(WellbeingAssessment).count() == 0
    missing = client.get("/arrangements/arr_missing/wellbeing", headers=world["partner"])
    assert missing.status_code == 404


def test_an_admin_may_record_and_read(client, session, world):
    headers = bearer(session, make_admin(session))
    assert client.post(world["url"], json=BASELINE, headers=headers).status_code == 201
    assert client.get(world["url"], headers=headers).status_code == 200


def test_erasing_the_seeker_deletes_their_answers(client, session, world):
    assert client.post(world["url"], json=BASELINE, headers=world["partner"]).status_code == 201
    erased = client.post(f"/care-seekers/{world['seeker'].id}/erase", headers=world["partner"])
    assert erased.status_code == 200, erased.json
    session.expire_all()
    assert session.query(WellbeingAssessment).count() == 0
    again = client.post(world["url"], json=BASELINE, headers=world["partner"])
    assert (again.status_code, again.json["code"]) == (409, "seeker_erased")
