"""Changing a care request: validation, re-routing and re-matching, optimistic concurrency."""

import pytest

from agency.access import Kind, Principal
from agency.jobs.models import JobRecord
from agency.seekers.exceptions import VersionConflict
from agency.seekers.models import CareRequest, RequestStatus
from agency.seekers.requests_service import change_care_request
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_seeker,
)
from tests.seekers.seekers_helpers import ask, covered_agency, register


def _request(client, session):  # type: ignore[no-untyped-def]
    agency = covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    created = ask(client, secret, seeker["id"]).get_json()
    return agency, secret, created


def test_a_partner_changes_notes_without_a_new_match(client, session):
    _, secret, created = _request(client, session)
    response = client.patch(
        f"/care-requests/{created['id']}",
        json={"notes": "Prefers mornings", "urgency": "hospital_discharge"},
        headers=api_key(secret),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["notes"] == "Prefers mornings"
    assert body["urgency"] == "hospital_discharge"
    assert body["job"]["id"] == created["job"]["id"]
    assert body["version"] > created["version"]
    assert response.headers["ETag"] == f'"{body["version"]}"'


def test_changing_what_is_needed_matches_again(client, session):
    _, secret, created = _request(client, session)
    response = client.patch(
        f"/care-requests/{created['id']}",
        json={"services": ["domestic_help"], "hours_per_week": 4},
        headers=api_key(secret),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["services"] == ["domestic_help"]
    assert body["hours_per_week"] == 4
    assert body["job"]["id"] != created["job"]["id"]
    assert session.get(JobRecord, body["job"]["id"]) is not None


def test_a_new_postcode_reroutes_the_request(client, session):
    _, secret, created = _request(client, session)
    other = covered_agency(session, outcodes=("BS5",))
    moved = client.patch(
        f"/care-requests/{created['id']}", json={"postcode": "BS5 6XX"}, headers=api_key(secret)
    ).get_json()
    assert moved["agency_id"] == other.id
    assert moved["outcode"] == "BS5"
    gone = client.patch(
        f"/care-requests/{created['id']}", json={"postcode": "EH1 1AA"}, headers=api_key(secret)
    ).get_json()
    assert gone["agency_id"] is None
    assert gone["routed"] is False
    assert session.get(CareRequest, created["id"]).council_id is None


def test_a_stale_version_is_refused_with_409(client, session):
    _, secret, created = _request(client, session)
    url = f"/care-requests/{created['id']}"
    current = client.get(url, headers=api_key(secret))
    version = current.get_json()["version"]
    assert current.headers["ETag"] == f'"{version}"'
    ok = client.patch(
        url, json={"notes": "a"}, headers={**api_key(secret), "If-Match": f'"{version}"'}
    )
    assert ok.status_code == 200
    for stale in (
        client.patch(
            url, json={"notes": "b"}, headers={**api_key(secret), "If-Match": f'"{version}"'}
        ),
        client.patch(url, json={"notes": "b", "version": version}, headers=api_key(secret)),
    ):
        assert stale.status_code == 409
        assert stale.get_json()["code"] == "version_conflict"
    fresh = client.patch(
        url, json={"notes": "b", "version": ok.get_json()["version"]}, headers=api_key(secret)
    )
    assert fresh.status_code == 200


def test_invalid_changes_are_422_naming_the_field(client, session):
    _, secret, created = _request(client, session)
    url = f"/care-requests/{created['id']}"
    for body, field in (
        ({"services": ["astrology"]}, "services"),
        ({"hours_per_week": 10}, "hours_per_week"),
        ({"windows": [{"weekday": 1, "start": "10:00", "end": "10:45"}]}, "windows"),
        ({"postcode": "ZZ9 9ZZ"}, "postcode"),
        ({"notes": "x" * 1001}, "notes"),
        ({"status": "closed"}, "status"),
    ):
        response = client.patch(url, json=body, headers=api_key(secret))
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]
    bad_header = client.patch(
        url, json={"notes": "x"}, headers={**api_key(secret), "If-Match": "yesterday"}
    )
    assert bad_header.status_code == 422
    assert "If-Match" in bad_header.get_json()["errors"]


def test_a_matched_request_can_no_longer_be_changed(client, session):
    partner, secret = make_partner(session)
    request = make_care_request(
        session,
        make_seeker(session, partner.id),
        covered_agency(session),
        status=RequestStatus.MATCHED,
    )
    response = client.patch(
        f"/care-requests/{request.id}", json={"notes": "x"}, headers=api_key(secret)
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "illegal_transition"
    assert "matched" in response.get_json()["message"]


def test_only_the_partner_changes_a_request(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    request = make_care_request(session, make_seeker(session, partner.id), agency)
    for headers, status in (
        (api_key(other_secret), 404),
        (bearer(session, make_manager(session)), 404),
        (bearer(session, make_manager(session, agency)), 403),
        (bearer(session, make_auditor(session, agency.council)), 403),
    ):
        response = client.patch(
            f"/care-requests/{request.id}", json={"notes": "x"}, headers=headers
        )
        assert response.status_code == status
    session.expire_all()
    assert session.get(CareRequest, request.id).notes is None


def test_a_new_rate_cap_matches_again_and_windows_are_stored_merged(client, session):
    _, secret, created = _request(client, session)
    windows = [
        {"weekday": 2, "start": "09:00", "end": "11:00"},
        {"weekday": 2, "start": "10:00", "end": "12:30"},
    ]
    body = client.patch(
        f"/care-requests/{created['id']}",
        json={"max_rate_pence": 2600, "windows": windows},
        headers=api_key(secret),
    ).get_json()
    assert body["job"]["id"] != created["job"]["id"]
    assert body["windows"] == [{"weekday": 2, "start": "09:00", "end": "12:30"}]


def test_a_change_racing_another_writer_is_a_version_conflict(app, session):
    partner, _ = make_partner(session)
    request = make_care_request(session, make_seeker(session, partner.id), covered_agency(session))
    partner_principal = Principal(kind=Kind.PARTNER, id=partner.id)
    other_writer = app.extensions["agency"].sessionmaker()
    try:
        other_writer.get(CareRequest, request.id).notes = "written first"
        other_writer.commit()
    finally:
        other_writer.close()
    # ``session`` still holds version 1 in its identity map: its UPDATE must not win.
    with pytest.raises(VersionConflict):
        change_care_request(session, partner_principal, request.id, {"notes": "written second"})
    session.expire_all()
    assert session.get(CareRequest, request.id).notes == "written first"
