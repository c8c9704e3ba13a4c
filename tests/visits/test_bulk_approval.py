"""Approving many timesheets at once: each invoiced as one approval would be, or refused alone."""

from agency.isf.isf_accounts import figures_for
from agency.isf.models import Invoice
from tests.factories import api_key, bearer, make_auditor, make_partner
from tests.visits.visit_helpers import (
    log,
    make_isf_world,
    make_world,
    provider_headers,
    submit,
)


def _approve(client, headers, ids):
    return client.post("/timesheets/approvals", json={"timesheet_ids": ids}, headers=headers)


def test_each_timesheet_is_invoiced_or_refused_on_its_own(client, session):
    world = make_isf_world(session, 2_500)  # one hour at 1850 p, not two
    log(client, world, day=20)
    older = submit(client, world, first=25, last=15).json
    log(client, world, day=10)
    newer = submit(client, world, first=14, last=5).json
    log(client, world, day=3)
    disputed_visit = log(client, world, day=2).json
    client.post(
        f"/visits/{disputed_visit['id']}/dispute",
        json={"reason": "Not on that day"},
        headers=world.partner_headers,
    )
    disputed = submit(client, world, first=4, last=0).json
    elsewhere = make_world(session)
    log(client, elsewhere, day=3)
    hidden = submit(client, elsewhere, first=5, last=0).json

    ids = [newer["id"], older["id"], disputed["id"], hidden["id"], "tms_nope"]
    response = _approve(client, world.manager_headers, ids)
    assert response.status_code == 200, response.json
    assert response.json["approved"] == [older["id"]]  # oldest submitted is paid first
    refused = {r["timesheet_id"]: r["code"] for r in response.json["refused"]}
    assert refused == {
        newer["id"]: "insufficient_funds",
        disputed["id"]: "visit_disputed",
        hidden["id"]: "not_found",
        "tms_nope": "not_found",
    }
    session.expire_all()
    invoice = session.get(Invoice, "inv_" + older["id"].split("_", 1)[1])
    assert invoice.total_pence == 1850 and invoice.number.endswith("-0001")
    isf_id = world.arrangement.isf_account_id
    assert figures_for(session, [isf_id])[isf_id].balance_pence == 2_500 - 1850
    again = _approve(client, world.manager_headers, [older["id"]])
    assert again.json["refused"][0]["code"] == "illegal_transition"
    single = client.post(f"/timesheets/{newer['id']}/approve", headers=world.manager_headers)
    assert single.status_code == 409 and single.json["code"] == "insufficient_funds"


def test_only_a_manager_approves_in_bulk(client, session):
    world = make_world(session)
    log(client, world, day=3)
    timesheet = submit(client, world, first=5, last=0).json
    _, secret = make_partner(session)
    for headers in (
        bearer(session, make_auditor(session, world.agency.council)),
        provider_headers(session, world.provider),
        api_key(secret),
    ):
        assert _approve(client, headers, [timesheet["id"]]).status_code == 403
    assert _approve(client, world.manager_headers, []).status_code == 422
    assert _approve(client, world.manager_headers, [timesheet["id"]]).json["approved"] == [
        timesheet["id"]
    ]
