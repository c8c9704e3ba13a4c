"""Logging, listing, correcting, deleting, confirming and disputing visits."""

from agency.introductions.models import ArrangementStatus
from agency.visits.models import Visit
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.visits.visit_helpers import days_ago, log, make_world, other_provider_headers, submit


def test_a_provider_logs_a_visit_within_the_agreement_without_flags(client, session):
    world = make_world(session)
    response = log(client, world, start="10:00", end="11:30", notes="Walk and shopping")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["id"].startswith("vis_")
    assert body["minutes"] == 90
    assert body["flags"] == []
    assert body["status"] == "logged"
    assert (body["start"], body["end"]) == ("10:00", "11:30")


def test_a_visit_across_the_autumn_clock_change_counts_the_time_actually_spent(client, session):
    import datetime as dt

    world = make_world(session, start_date=dt.date(2026, 10, 1))
    body = {"date": "2026-10-25", "start": "00:30", "end": "02:30", "services": ["companionship"]}
    response = client.post(
        f"/arrangements/{world.arrangement.id}/visits", json=body, headers=world.provider_headers
    )
    assert response.status_code == 201, response.json
    assert response.json["minutes"] == 180  # 01:00-02:00 happens twice that night


def test_invalid_visits_are_refused_naming_the_field(client, session):
    world = make_world(session)
    cases = [
        ({"start": "11:00", "end": "10:00"}, "end"),
        ({"start": "10:15", "end": "9:00"}, "end"),
        ({"start": "07:00", "end": "19:30"}, "end"),  # longer than 12 hours
        ({"notes": "x" * 501}, "notes"),
        ({"services": []}, "services"),
        ({"day": -1}, "date"),  # tomorrow
        ({"day": 400}, "date"),  # before the arrangement started
    ]
    for extra, field in cases:
        response = log(client, world, **extra)
        assert response.status_code == 422, (extra, response.json)
        assert field in response.json["errors"], (extra, response.json)


def test_a_paused_arrangement_takes_no_visits(client, session):
    world = make_world(session, status=ArrangementStatus.PAUSED)
    response = log(client, world)
    assert response.status_code == 409
    assert response.json["code"] == "arrangement_not_active"
    assert response.json["current_status"] == "paused"


def test_visits_outside_the_schedule_or_services_are_flagged_not_refused(client, session):
    schedule = [{"weekday": d, "start": "09:00", "end": "12:00"} for d in range(7)]
    world = make_world(session, schedule=schedule)
    assert log(client, world, start="09:00", end="12:00").json["flags"] == []
    late = log(client, world, day=4, start="11:45", end="12:15")
    assert late.status_code == 201
    assert late.json["flags"] == ["outside_schedule"]
    other = log(client, world, day=5, services=["companionship", "gardening"])
    assert other.json["flags"] == ["service_not_agreed"]


def test_overlapping_visits_are_both_flagged_and_cleared_when_one_goes(client, session):
    world = make_world(session)
    first = log(client, world, start="10:00", end="11:00").json
    second = log(client, world, start="10:30", end="11:30").json
    assert second["flags"] == ["overlaps_another_visit"]
    assert client.get(f"/visits/{first['id']}", headers=world.provider_headers).json["flags"] == [
        "overlaps_another_visit"
    ]
    response = client.delete(f"/visits/{second['id']}", headers=world.provider_headers)
    assert response.status_code == 204
    assert client.get(f"/visits/{first['id']}", headers=world.provider_headers).json["flags"] == []


def test_a_twelve_hour_visit_still_overlaps_one_starting_a_minute_before_it_ends(client, session):
    """The overlap search reaches back the longest a visit lasts (12 hours), not less."""
    world = make_world(session)
    longest = log(client, world, start="08:00", end="20:00").json  # 12 hours, the most
    late = log(client, world, start="19:59", end="20:30").json
    assert "overlaps_another_visit" in late["flags"]
    assert client.get(f"/visits/{longest['id']}", headers=world.provider_headers).json["flags"] == [
        "overlaps_another_visit"
    ]
    corrected = client.patch(
        f"/visits/{late['id']}", json={"start": "20:00"}, headers=world.provider_headers
    )
    assert corrected.status_code == 200, corrected.json
    assert "overlaps_another_visit" not in corrected.json["flags"]
    assert (
        client.get(f"/visits/{longest['id']}", headers=world.provider_headers).json["flags"] == []
    )


def test_a_visit_that_ended_before_another_began_does_not_overlap_it(client, session):
    world = make_world(session)
    longest = log(client, world, start="08:00", end="20:00").json  # ends as the next starts
    yesterday = log(client, world, day=4, start="08:00", end="20:00").json
    evening = log(client, world, start="20:00", end="21:00").json
    assert "overlaps_another_visit" not in evening["flags"]
    for visit in (longest, yesterday):
        response = client.get(f"/visits/{visit['id']}", headers=world.provider_headers)
        assert response.json["flags"] == []


def test_the_parties_list_and_read_visits_and_others_cannot(client, session):
    world = make_world(session)
    visit = log(client, world).json
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.provider_headers, world.manager_headers, world.partner_headers, auditor):
        listed = client.get(f"/arrangements/{world.arrangement.id}/visits", headers=headers)
        assert listed.status_code == 200
        assert [v["id"] for v in listed.json] == [visit["id"]]
        assert client.get(f"/visits/{visit['id']}", headers=headers).status_code == 200
    _, other_secret = make_partner(session)
    outsiders = (
        other_provider_headers(session, world),
        bearer(session, make_manager(session)),
        api_key(other_secret),
        bearer(session, make_auditor(session)),
    )
    for headers in outsiders:
        assert client.get(f"/visits/{visit['id']}", headers=headers).status_code == 404
        listed = client.get(f"/arrangements/{world.arrangement.id}/visits", headers=headers)
        assert listed.status_code == 404


def test_only_the_arrangements_provider_logs_visits(client, session):
    world = make_world(session)
    other = other_provider_headers(session, world)
    body = {
        "date": days_ago(1).isoformat(),
        "start": "10:00",
        "end": "11:00",
        "services": ["companionship"],
    }
    url = f"/arrangements/{world.arrangement.id}/visits"
    assert client.post(url, json=body, headers=other).status_code == 404
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.manager_headers, world.partner_headers, auditor):
        assert client.post(url, json=body, headers=headers).status_code == 403


def test_a_provider_corrects_a_visit_and_it_goes_back_to_logged(client, session):
    world = make_world(session)
    visit = log(client, world).json
    client.post(f"/visits/{visit['id']}/confirm", headers=world.partner_headers)
    notes_only = client.patch(
        f"/visits/{visit['id']}", json={"notes": "Tea and a chat"}, headers=world.provider_headers
    )
    assert notes_only.json["status"] == "confirmed"  # nothing the partner confirmed changed
    response = client.patch(
        f"/visits/{visit['id']}", json={"end": "11:45"}, headers=world.provider_headers
    )
    assert response.status_code == 200, response.json
    assert response.json["minutes"] == 105
    assert response.json["status"] == "logged"
    bad = client.patch(
        f"/visits/{visit['id']}", json={"end": "09:00"}, headers=world.provider_headers
    )
    assert bad.status_code == 422 and "end" in bad.json["errors"]


def test_others_cannot_change_or_delete_a_visit(client, session):
    world = make_world(session)
    visit = log(client, world).json
    url = f"/visits/{visit['id']}"
    other = other_provider_headers(session, world)
    assert client.patch(url, json={"end": "11:30"}, headers=other).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.manager_headers, world.partner_headers, auditor):
        assert client.patch(url, json={"end": "11:30"}, headers=headers).status_code == 403
        assert client.delete(url, headers=headers).status_code == 403


def test_a_visit_on_a_submitted_timesheet_is_locked(client, session):
    world = make_world(session)
    visit = log(client, world).json
    assert submit(client, world).status_code == 201
    url = f"/visits/{visit['id']}"
    patched = client.patch(url, json={"end": "11:30"}, headers=world.provider_headers)
    assert patched.status_code == 409 and patched.json["code"] == "visit_locked"
    assert client.delete(url, headers=world.provider_headers).status_code == 409


def test_the_partner_confirms_or_disputes_and_illegal_moves_are_409(client, session):
    world = make_world(session)
    visit = log(client, world).json
    url = f"/visits/{visit['id']}"
    confirmed = client.post(f"{url}/confirm", headers=world.partner_headers)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    again = client.post(f"{url}/confirm", headers=world.partner_headers)
    assert again.status_code == 409
    assert again.json["code"] == "illegal_transition"
    assert again.json["current_status"] == "confirmed"
    disputed = client.post(
        f"{url}/dispute", json={"reason": "Left early"}, headers=world.partner_headers
    )
    assert disputed.status_code == 200
    assert disputed.json["status"] == "disputed"
    assert disputed.json["dispute_reason"] == "Left early"
    missing = client.post(f"{url}/dispute", json={}, headers=world.partner_headers)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]


def test_only_the_seekers_partner_confirms_or_disputes(client, session):
    world = make_world(session)
    visit = log(client, world).json
    url = f"/visits/{visit['id']}"
    _, other_secret = make_partner(session)
    assert client.post(f"{url}/confirm", headers=api_key(other_secret)).status_code == 404
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.provider_headers, world.manager_headers, auditor):
        assert client.post(f"{url}/confirm", headers=headers).status_code == 403
        response = client.post(f"{url}/dispute", json={"reason": "x"}, headers=headers)
        assert response.status_code == 403
    assert session.get(Visit, visit["id"]).status.value == "logged"
