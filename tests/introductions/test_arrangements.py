"""Confirmation starts an arrangement; any party pauses or ends it; the manager changes terms."""

from sqlalchemy import func, select

from agency.ids import new_id
from agency.introductions.eligibility import failed_constraints
from agency.introductions.models import Arrangement
from agency.jobs.models import JobRecord
from agency.providers.models import IsfApproval, Provider
from agency.seekers.models import CareRequest, Funding
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner, make_provider
from tests.introductions.introductions_helpers import confirmed, make_world, provider_headers


def _arrangement(session, world):
    return session.scalar(
        select(Arrangement).where(Arrangement.care_request_id == world.care_request.id)
    )


def test_confirmation_records_the_agreed_terms_and_matches_the_request(client, session):
    world = make_world(session)
    introduction = confirmed(client, world, start_date="2026-12-14")
    assert introduction["status"] == "confirmed"
    arrangement_id = introduction["arrangement_id"]
    response = client.get(f"/arrangements/{arrangement_id}", headers=world.partner_auth)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "active"
    assert body["start_date"] == "2026-12-14"
    assert body["funding"] == "self_funded"
    assert body["isf_account_id"] is None
    assert body["terms"]["rates_pence"] == {"companionship": 1800}
    assert body["terms"]["minutes_per_week"] == 120
    assert body["terms"]["schedule"] == world.care_request.windows
    assert [v["version"] for v in body["versions"]] == [1]
    session.expire_all()
    assert session.get(CareRequest, world.care_request.id).status.value == "matched"


def test_an_isf_funded_arrangement_is_paid_from_the_seekers_isf_at_the_agency(client, session):
    from tests.isf.money_factories import make_isf_account

    world = make_world(session, funding=Funding.ISF)
    isf = make_isf_account(session, world.agency, world.seeker)
    provider = session.get(Provider, world.provider.id)
    session.add(
        IsfApproval(
            id=new_id("isa"),
            provider_id=provider.id,
            council_id=world.agency.council_id,
            recorded_by=make_manager(session, world.agency).id,
        )
    )
    session.commit()
    introduction = confirmed(client, world)
    arrangement = client.get(
        f"/arrangements/{introduction['arrangement_id']}", headers=world.manager
    ).get_json()
    assert arrangement["funding"] == "isf"
    assert arrangement["isf_account_id"] == isf.id


def test_an_isf_account_that_is_not_the_seekers_is_422(client, session):
    from tests.introductions.introductions_helpers import accepted
    from tests.isf.money_factories import make_isf_account

    world = make_world(session)
    someone_elses = make_isf_account(session, world.agency)
    introduction_id = accepted(client, world)
    response = client.post(
        f"/introductions/{introduction_id}/confirm",
        json={"isf_account_id": someone_elses.id},
        headers=world.partner_auth,
    )
    assert response.status_code == 422
    assert "isf_account_id" in response.get_json()["errors"]


def test_the_start_date_must_be_a_date(client, session):
    world = make_world(session)
    from tests.introductions.introductions_helpers import accepted

    introduction_id = accepted(client, world)
    response = client.post(
        f"/introductions/{introduction_id}/confirm",
        json={"start_date": "next week"},
        headers=world.partner_auth,
    )
    assert response.status_code == 422
    assert "start_date" in response.get_json()["errors"]


def test_each_party_pauses_and_resumes_within_its_rights(client, session):
    world = make_world(session)
    arrangement_id = confirmed(client, world)["arrangement_id"]
    url = f"/arrangements/{arrangement_id}"
    body = {"reason": "Hospital stay"}
    auditor = bearer(session, make_auditor(session, world.agency.council))
    _, other_secret = make_partner(session)
    stranger = provider_headers(session, make_provider(session, world.agency))
    assert client.post(url + "/pause", json=body, headers=auditor).status_code == 403
    assert client.post(url + "/pause", json=body, headers=api_key(other_secret)).status_code == 404
    assert client.post(url + "/pause", json=body, headers=stranger).status_code == 404
    assert client.post(url + "/pause", json={}, headers=world.partner_auth).status_code == 422
    for headers in (world.partner_auth, world.provider_auth, world.manager):
        paused = client.post(url + "/pause", json=body, headers=headers)
        assert paused.status_code == 200, paused.get_json()
        assert paused.get_json()["status"] == "paused"
        again = client.post(url + "/pause", json=body, headers=headers)
        assert again.status_code == 409
        assert again.get_json()["current_status"] == "paused"
        resumed = client.post(url + "/resume", json={"reason": "Home again"}, headers=headers)
        assert resumed.get_json()["status"] == "active"
    assert client.get(url, headers=auditor).status_code == 200


def test_a_manager_changes_the_terms_and_the_old_version_is_kept(client, session):
    world = make_world(session)
    arrangement_id = confirmed(client, world)["arrangement_id"]
    url = f"/arrangements/{arrangement_id}/versions"
    change = {
        "rates_pence": {"companionship": 1900},
        "minutes_per_week": 180,
        "schedule": [{"weekday": 1, "start": "10:00", "end": "13:00"}],
        "effective_from": "2027-01-04",
        "change_reason": "One more hour",
    }
    assert client.post(url, json=change, headers=world.provider_auth).status_code == 403
    assert client.post(url, json=change, headers=world.partner_auth).status_code == 403
    assert (
        client.post(url, json=change, headers=bearer(session, make_manager(session))).status_code
        == 404
    )
    bad = client.post(url, json={**change, "rates_pence": {"cooking": 1}}, headers=world.manager)
    assert bad.status_code == 422
    assert "rates_pence" in bad.get_json()["errors"]
    bad = client.post(
        url,
        json={**change, "schedule": [{"weekday": 9, "start": "10:00", "end": "11:00"}]},
        headers=world.manager,
    )
    assert bad.status_code == 422
    assert "schedule" in bad.get_json()["errors"]
    missing = client.post(
        url, json={k: v for k, v in change.items() if k != "change_reason"}, headers=world.manager
    )
    assert "change_reason" in missing.get_json()["errors"]
    response = client.post(url, json=change, headers=world.manager)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["current_version"] == 2
    assert body["terms"]["minutes_per_week"] == 180
    assert [(v["version"], v["rates_pence"]["companionship"]) for v in body["versions"]] == [
        (1, 1800),
        (2, 1900),
    ]


def test_ending_frees_capacity_and_can_reopen_the_request_for_a_new_match(app, client, session):
    world = make_world(session)
    arrangement_id = confirmed(client, world)["arrangement_id"]
    provider = session.get(Provider, world.provider.id)
    provider.capacity_hours_per_week = 2.0  # exactly the arrangement's hours
    session.commit()
    request = session.get(CareRequest, world.care_request.id)
    assert "no_capacity" in failed_constraints(session, request, provider, request.start_date)
    response = client.post(
        f"/arrangements/{arrangement_id}/end",
        json={"reason": "Moved away", "reopen_request": True},
        headers=world.partner_auth,
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "ended"
    assert response.get_json()["end_reason"] == "Moved away"
    session.expire_all()
    request = session.get(CareRequest, world.care_request.id)
    assert request.status.value in {"open", "matching"}
    assert session.scalar(select(JobRecord.id).where(JobRecord.id == request.last_match_job_id))
    assert "no_capacity" not in failed_constraints(session, request, provider, request.start_date)
    again = client.post(
        f"/arrangements/{arrangement_id}/resume", json={"reason": "x"}, headers=world.manager
    )
    assert again.status_code == 409
    assert again.get_json()["current_status"] == "ended"


def test_arrangements_are_listed_within_each_partys_rights(client, session):
    world = make_world(session)
    arrangement_id = confirmed(client, world)["arrangement_id"]
    elsewhere = make_world(session)
    confirmed(client, elsewhere)
    auditor = bearer(session, make_auditor(session, world.agency.council))

    def ids(headers, **query):
        response = client.get("/arrangements", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [a["id"] for a in response.get_json()]

    for headers in (world.manager, world.provider_auth, world.partner_auth, auditor):
        assert ids(headers) == [arrangement_id]
    assert ids(world.manager, status="ended") == []
    assert (
        client.get(f"/arrangements/{arrangement_id}", headers=elsewhere.partner_auth).status_code
        == 404
    )


def test_a_request_already_matched_cannot_be_confirmed_twice(client, session):
    from tests.introductions.introductions_helpers import make_suggestion

    world = make_world(session)
    second = make_provider(session, world.agency)
    suggestion = make_suggestion(session, world.care_request, second)
    second_intro = client.post(
        f"/care-requests/{world.care_request.id}/introductions",
        json={"suggestion_id": suggestion.id},
        headers=world.manager,
    ).get_json()["id"]
    client.post(f"/introductions/{second_intro}/accept", headers=provider_headers(session, second))
    confirmed(client, world)
    late = client.post(
        f"/introductions/{second_intro}/confirm", json={}, headers=world.partner_auth
    )
    assert late.status_code == 409
    assert late.get_json()["code"] == "illegal_transition"
    assert late.get_json()["current_status"] == "matched"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Arrangement)) == 1


def test_partners_hear_of_started_changed_and_ended_arrangements(client, session, receiver):
    from tests.webhooks.webhook_receiver import verify

    world = make_world(session)
    endpoint = client.post(
        "/webhook-endpoints",
        json={
            "url": receiver.url,
            "events": [
                "arrangement.started",
                "arrangement.changed",
                "arrangement.ended",
                "care_request.matched",
            ],
        },
        headers=world.partner_auth,
    ).get_json()
    arrangement_id = confirmed(client, world)["arrangement_id"]
    url = f"/arrangements/{arrangement_id}"
    client.post(url + "/pause", json={"reason": "away"}, headers=world.provider_auth)
    client.post(
        url + "/versions",
        json={"minutes_per_week": 90, "effective_from": "2027-02-01", "change_reason": "less"},
        headers=world.manager,
    )
    client.post(url + "/end", json={"reason": "done"}, headers=world.manager)
    events = [(r.json["type"], r.json["data"].get("status")) for r in receiver.received]
    assert events == [
        ("arrangement.started", "active"),
        ("care_request.matched", "matched"),
        ("arrangement.changed", "paused"),
        ("arrangement.changed", "paused"),
        ("arrangement.ended", "ended"),
    ]
    assert receiver.received[3].json["data"]["version"] == 2
    for received in receiver.received:
        verify(endpoint["secret"], received.headers, received.body)
