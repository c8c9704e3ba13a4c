"""Submitting, querying, resubmitting and approving timesheets: the one state machine."""

from sqlalchemy import select

from agency.isf.models import Invoice
from agency.visits.models import Timesheet
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.visits.visit_helpers import days_ago, log, make_world, other_provider_headers, submit


def test_a_provider_submits_the_periods_visits_not_yet_on_a_timesheet(client, session):
    world = make_world(session)
    inside = [log(client, world, day=d).json["id"] for d in (2, 5)]
    log(client, world, day=40)  # outside the period
    response = submit(client, world, first=10, last=0)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "submitted"
    assert sorted(v["id"] for v in body["visits"]) == sorted(inside)
    assert body["total_minutes"] == 120
    again = submit(client, world, first=10, last=0)
    assert again.status_code == 409 and again.json["code"] == "no_visits"


def test_invalid_periods_are_refused_naming_the_field(client, session):
    world = make_world(session)
    log(client, world, day=2)
    assert submit(client, world, first=40, last=2).json["errors"].keys() == {"period_end"}
    assert submit(client, world, first=2, last=5).json["errors"].keys() == {"period_end"}
    url = f"/arrangements/{world.arrangement.id}/timesheets"
    missing = client.post(url, json={"period_end": "2026-11-01"}, headers=world.provider_headers)
    assert missing.status_code == 422 and "period_start" in missing.json["errors"]


def test_only_the_arrangements_provider_submits(client, session):
    world = make_world(session)
    log(client, world, day=2)
    url = f"/arrangements/{world.arrangement.id}/timesheets"
    body = {"period_start": days_ago(5).isoformat(), "period_end": days_ago(0).isoformat()}
    assert (
        client.post(url, json=body, headers=other_provider_headers(session, world)).status_code
        == 404
    )
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.manager_headers, world.partner_headers, auditor):
        assert client.post(url, json=body, headers=headers).status_code == 403
    assert session.scalar(select(Timesheet.id)) is None


def test_query_correct_resubmit_approve(client, session):
    world = make_world(session)
    visit = log(client, world, day=2).json
    timesheet = submit(client, world).json
    url = f"/timesheets/{timesheet['id']}"
    queried = client.post(
        f"{url}/query", json={"reason": "Check Tuesday"}, headers=world.manager_headers
    )
    assert queried.status_code == 200 and queried.json["status"] == "queried"
    assert queried.json["query_reason"] == "Check Tuesday"
    fixed = client.patch(
        f"/visits/{visit['id']}", json={"end": "10:45"}, headers=world.provider_headers
    )
    assert fixed.status_code == 200
    extra = log(client, world, day=3).json  # a forgotten visit joins on resubmission
    resubmitted = client.post(f"{url}/resubmit", headers=world.provider_headers)
    assert resubmitted.status_code == 200 and resubmitted.json["status"] == "submitted"
    assert {v["id"] for v in resubmitted.json["visits"]} == {visit["id"], extra["id"]}
    approved = client.post(f"{url}/approve", headers=world.manager_headers)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert approved.json["approved_at"]
    assert (
        session.get(Invoice, approved.json["invoice_id"]).total_pence == 1388 + 1850
    )  # 45 min (1387.5 up) + 60 min


def test_illegal_moves_are_409_naming_the_current_state(client, session):
    world = make_world(session)
    log(client, world, day=2)
    url = f"/timesheets/{submit(client, world).json['id']}"
    resubmit = client.post(f"{url}/resubmit", headers=world.provider_headers)
    assert resubmit.status_code == 409
    assert (resubmit.json["code"], resubmit.json["current_status"]) == (
        "illegal_transition",
        "submitted",
    )
    assert client.post(f"{url}/approve", headers=world.manager_headers).status_code == 200
    for move, body, headers in (
        ("approve", None, world.manager_headers),
        ("query", {"reason": "late"}, world.manager_headers),
        ("resubmit", None, world.provider_headers),
    ):
        response = client.post(f"{url}/{move}", json=body, headers=headers)
        assert response.status_code == 409, move
        assert response.json["code"] == "illegal_transition"
        assert response.json["current_status"] == "approved"
    assert session.scalar(select(Invoice.id).where(Invoice.arrangement_id == world.arrangement.id))


def test_a_disputed_visit_blocks_approval(client, session):
    world = make_world(session)
    visit = log(client, world, day=2).json
    url = f"/timesheets/{submit(client, world).json['id']}"
    client.post(
        f"/visits/{visit['id']}/dispute", json={"reason": "No visit"}, headers=world.partner_headers
    )
    response = client.post(f"{url}/approve", headers=world.manager_headers)
    assert response.status_code == 409
    assert response.json["code"] == "visit_disputed"
    assert response.json["visit_ids"] == [visit["id"]]
    assert client.get(url, headers=world.manager_headers).json["status"] == "submitted"
    assert session.scalar(select(Invoice.id)) is None


def test_a_visit_with_no_agreed_service_cannot_be_invoiced(client, session):
    world = make_world(session)
    log(client, world, day=2, services=["gardening"])
    url = f"/timesheets/{submit(client, world).json['id']}"
    response = client.post(f"{url}/approve", headers=world.manager_headers)
    assert response.status_code == 409 and response.json["code"] == "service_not_agreed"
    assert client.get(url, headers=world.manager_headers).json["status"] == "submitted"


def test_only_the_agencys_manager_approves_or_queries(client, session):
    world = make_world(session)
    log(client, world, day=2)
    timesheet = submit(client, world).json
    url = f"/timesheets/{timesheet['id']}"
    other_manager = bearer(session, make_manager(session))
    assert client.post(f"{url}/approve", headers=other_manager).status_code == 404
    assert (
        client.post(f"{url}/query", json={"reason": "x"}, headers=other_manager).status_code == 404
    )
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.provider_headers, world.partner_headers, auditor):
        assert client.post(f"{url}/approve", headers=headers).status_code == 403
        assert client.post(f"{url}/query", json={"reason": "x"}, headers=headers).status_code == 403
    missing = client.post(f"{url}/query", json={}, headers=world.manager_headers)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    assert client.get(url, headers=world.manager_headers).json["status"] == "submitted"


def test_only_the_provider_resubmits(client, session):
    world = make_world(session)
    log(client, world, day=2)
    url = f"/timesheets/{submit(client, world).json['id']}"
    client.post(f"{url}/query", json={"reason": "x"}, headers=world.manager_headers)
    assert (
        client.post(f"{url}/resubmit", headers=other_provider_headers(session, world)).status_code
        == 404
    )
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.manager_headers, world.partner_headers, auditor):
        assert client.post(f"{url}/resubmit", headers=headers).status_code == 403


def test_the_parties_read_timesheets_and_others_cannot(client, session):
    world = make_world(session)
    log(client, world, day=2)
    timesheet = submit(client, world).json
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.provider_headers, world.manager_headers, world.partner_headers, auditor):
        assert client.get(f"/timesheets/{timesheet['id']}", headers=headers).status_code == 200
        listed = client.get(f"/arrangements/{world.arrangement.id}/timesheets", headers=headers)
        assert [t["id"] for t in listed.json] == [timesheet["id"]]
    _, secret = make_partner(session)
    for headers in (
        other_provider_headers(session, world),
        bearer(session, make_manager(session)),
        api_key(secret),
        bearer(session, make_auditor(session)),
    ):
        assert client.get(f"/timesheets/{timesheet['id']}", headers=headers).status_code == 404
