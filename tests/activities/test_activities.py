"""Community activities: publishing, explained suggestions, referrals and attendance."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agency.accounts.models import User
from agency.activities.models import ActivityAttendance, ActivityReferral
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
from tests.outcomes.outcomes_helpers import consent_to


def activity_body(**overrides):
    return {
        "name": "Lunch club",
        "organiser": "Windmill Hill Community",
        "outcode": "BS3",
        "venue": "Community hall",
        "schedule": [{"weekday": 1, "start": "12:00", "end": "14:00"}],
        "accessibility_notes": "Step-free; hearing loop",
        "cost_pence": 350,
        "capacity": 20,
        "interests": ["food_lunch_club", "conversation_cafe"],
        **overrides,
    }


@pytest.fixture
def world(client, session):
    council = make_council(session)
    agency = make_agency(session, council)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    consent_to(session, seeker, "community")
    make_care_request(session, seeker, agency)  # care on Tuesdays 10:00-12:00
    manager = bearer(session, make_manager(session, agency))

    def publish(**overrides):
        response = client.post("/activities", json=activity_body(**overrides), headers=manager)
        assert response.status_code == 201, response.json
        return response.json

    return {
        "council": council,
        "agency": agency,
        "partner": api_key(secret),
        "partner_id": partner.id,
        "seeker": seeker,
        "manager": manager,
        "publish": publish,
    }


def _suggest(client, world, interests="food_lunch_club,walking_outdoors", headers=None):
    return client.get(
        f"/care-seekers/{world['seeker'].id}/activity-suggestions",
        query_string={"interests": interests},
        headers=world["partner"] if headers is None else headers,
    )


def test_suggestions_fit_interests_distance_and_care_windows_with_an_explanation(client, world):
    lunch = world["publish"]()
    walk = world["publish"](
        name="Walking group",
        schedule=[{"weekday": 1, "start": "10:00", "end": "11:00"}],
        interests=["walking_outdoors"],
        cost_pence=0,
    )
    world["publish"](name="Choir", interests=["music_singing"])  # no shared interest
    world["publish"](name="Bath lunch", outcode="BA1")  # about 18 km away
    response = _suggest(client, world)
    assert response.status_code == 200, response.json
    suggestions = response.json
    assert [s["activity_id"] for s in suggestions] == [lunch["id"], walk["id"]]
    first, second = suggestions
    assert first["sessions"][0]["timing"] == "free"
    assert first["interests_matched"] == ["food_lunch_club"]
    assert "outside your care visits: Tue 12:00-14:00" in first["explanation"]
    assert "£3.50 a session" in first["explanation"]
    assert second["sessions"][0]["timing"] == "alongside_care"
    assert "so your provider could come along: Tue 10:00-11:00" in second["explanation"]
    assert second["explanation"].endswith("free.")


def test_suggestions_need_consent_to_community(client, session, world):
    consent_to(session, world["seeker"])  # newer consent without "community"
    response = _suggest(client, world)
    assert (response.status_code, response.json["code"]) == (409, "consent_required")


def test_suggestions_are_refused_to_other_principals(client, session, world):
    assert _suggest(client, world, headers={}).status_code == 401
    other = api_key(make_partner(session, name="Other")[1])
    assert _suggest(client, world, headers=other).status_code == 404
    assert _suggest(client, world, headers=world["manager"]).status_code == 403
    assert _suggest(client, world, interests="knitting").status_code == 422


def test_publishing_validates_and_only_managers_publish(client, session, world):
    for change in (
        {"interests": ["knitting"]},
        {"outcode": "ZZ99"},
        {"cost_pence": -1},
        {"capacity": 0},
        {"schedule": [{"weekday": 1, "start": "12:00", "end": "11:00"}]},
    ):
        response = client.post(
            "/activities", json=activity_body(**change), headers=world["manager"]
        )
        assert response.status_code == 422, change
    auditor = bearer(session, make_auditor(session, world["council"]))
    provider = make_provider(session, world["agency"])
    for headers in (
        world["partner"],
        auditor,
        bearer(session, session.get(User, provider.user_id)),
    ):
        assert client.post("/activities", json=activity_body(), headers=headers).status_code == 403
    assert client.post("/activities", json=activity_body()).status_code == 401


def test_who_sees_an_activity(client, session, world):
    activity = world["publish"]()
    url = f"/activities/{activity['id']}"
    auditor = bearer(session, make_auditor(session, world["council"]))
    assert client.get(url, headers=auditor).status_code == 200
    assert [a["id"] for a in client.get("/activities", headers=auditor).json] == [activity["id"]]
    other_manager = bearer(session, make_manager(session, make_agency(session)))
    other_auditor = bearer(session, make_auditor(session, make_council(session)))
    assert client.get(url, headers=other_manager).status_code == 404
    assert client.get(url, headers=other_auditor).status_code == 404
    assert client.get("/activities", headers=other_manager).json == []
    assert client.get(url, headers=world["partner"]).status_code == 403


def test_a_manager_refers_a_seeker_and_records_attendance(client, session, world):
    activity = world["publish"](capacity=1)
    refer_url = f"/activities/{activity['id']}/referrals"
    body = {"seeker_id": world["seeker"].id}
    referral = client.post(refer_url, json=body, headers=world["manager"])
    assert referral.status_code == 201, referral.json
    again = client.post(refer_url, json=body, headers=world["manager"])
    assert again.status_code == 409
    # Full now: a second seeker cannot be referred, and it is no longer suggested.
    assert _suggest(client, world, interests="food_lunch_club").json == []
    url = f"/activity-referrals/{referral.json['id']}/attendance"
    tuesday = {"session_date": "2026-11-24", "attended": True}
    assert client.post(url, json=tuesday, headers=world["manager"]).status_code == 201
    assert client.post(url, json=tuesday, headers=world["manager"]).status_code == 409
    wednesday = {"session_date": "2026-11-25", "attended": False}
    assert client.post(url, json=wednesday, headers=world["manager"]).status_code == 422
    other_manager = bearer(session, make_manager(session, make_agency(session)))
    next_week = {"session_date": "2026-11-17", "attended": False}
    assert client.post(url, json=next_week, headers=other_manager).status_code == 404
    assert client.post(url, json=next_week, headers=world["partner"]).status_code == 403


def test_referral_needs_consent_and_a_seeker_the_agency_knows(client, session, world):
    activity = world["publish"]()
    refer_url = f"/activities/{activity['id']}/referrals"
    unknown = make_seeker(session, world["partner_id"])  # no request with this agency
    consent_to(session, unknown, "community")
    response = client.post(refer_url, json={"seeker_id": unknown.id}, headers=world["manager"])
    assert response.status_code == 404
    consent_to(session, world["seeker"])  # withdrawn "community"
    body = {"seeker_id": world["seeker"].id}
    response = client.post(refer_url, json=body, headers=world["manager"])
    assert (response.status_code, response.json["code"]) == (409, "consent_required")
    other_manager = bearer(session, make_manager(session, make_agency(session)))
    assert client.post(refer_url, json=body, headers=other_manager).status_code == 404
    auditor = bearer(session, make_auditor(session, world["council"]))
    assert client.post(refer_url, json=body, headers=auditor).status_code == 403


def test_erasing_the_seeker_removes_referrals_and_attendance(client, session, world):
    activity = world["publish"]()
    referral = client.post(
        f"/activities/{activity['id']}/referrals",
        json={"seeker_id": world["seeker"].id},
        headers=world["manager"],
    ).json
    client.post(
        f"/activity-referrals/{referral['id']}/attendance",
        json={"session_date": "2026-11-24", "attended": True},
        headers=world["manager"],
    )
    erased = client.post(f"/care-seekers/{world['seeker'].id}/erase", headers=world["partner"])
    assert erased.status_code == 200
    assert session.scalar(select(func.count()).select_from(ActivityReferral)) == 0
    assert session.scalar(select(func.count()).select_from(ActivityAttendance)) == 0
