"""An ISF arrangement confirmed before its ISF account existed is paid once the account opens."""

from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.isf.models import Invoice, Payout
from tests.isf.money_factories import make_isf_account
from tests.isf.payment_helpers import queue_worker
from tests.visits.visit_helpers import days_ago, log, make_world, submit


def _open_isf(client, world):
    return client.post(
        "/isf-accounts",
        json={
            "seeker_id": world.seeker.id,
            "council_reference": "BCC-ISF-LATE",
            "plan_start": days_ago(60).isoformat(),
            "plan_end": days_ago(-300).isoformat(),
        },
        headers=world.manager_headers,
    )


def test_opening_the_isf_account_after_confirmation_links_it_and_the_invoice_is_paid(
    client, session, request
):
    world = make_world(session, funding="isf")  # confirmed with no ISF account yet
    arrangement_path = f"/arrangements/{world.arrangement.id}"
    assert (
        client.get(arrangement_path, headers=world.manager_headers).json["isf_account_id"] is None
    )
    assert log(client, world, day=3).status_code == 201
    timesheet = submit(client, world, first=10).json
    refused = client.post(f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers)
    assert refused.status_code == 409 and refused.json["code"] == "no_isf_account"

    opened = _open_isf(client, world)
    assert opened.status_code == 201, opened.json
    isf_id = opened.json["id"]
    allocated = client.post(
        f"/isf-accounts/{isf_id}/allocations",
        json={
            "amount_pence": 10_000,
            "period_start": days_ago(60).isoformat(),
            "period_end": days_ago(-300).isoformat(),
        },
        headers=world.manager_headers,
    )
    assert allocated.status_code == 201, allocated.json
    linked = client.get(arrangement_path, headers=world.manager_headers).json
    assert linked["isf_account_id"] == isf_id

    approved = client.post(f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers)
    assert approved.status_code == 200, approved.json
    invoice = session.get(Invoice, approved.json["invoice_id"])
    assert invoice.isf_account_id == isf_id and invoice.total_pence == 1850
    work = queue_worker(request)
    run = client.post("/payment-runs", headers=world.manager_headers)
    assert run.status_code == 202
    work()
    session.expire_all()
    payout = session.scalar(select(Payout).where(Payout.invoice_id == invoice.id))
    assert payout is not None and payout.amount_pence == 1850
    assert payout.gateway == "manual_bank_transfer"
    isf = client.get(f"/isf-accounts/{isf_id}", headers=world.manager_headers).json
    assert isf["balance_pence"] == 10_000 - 1850
    audit = session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == world.arrangement.id)
    ).all()
    assert "arrangement.isf_account_linked" in audit


def test_a_new_arrangement_version_attaches_the_seekers_open_isf_account(client, session):
    world = make_world(session, funding="isf")
    isf = make_isf_account(session, world.agency, world.seeker)  # opened behind the link
    path = f"/arrangements/{world.arrangement.id}/versions"
    body = {"effective_from": days_ago(0).isoformat(), "change_reason": "ISF account opened"}
    elsewhere = make_isf_account(session, seeker=None)
    wrong = client.post(
        path, json={**body, "isf_account_id": elsewhere.id}, headers=world.manager_headers
    )
    assert wrong.status_code == 422 and "isf_account_id" in wrong.json["errors"]
    attached = client.post(
        path, json={**body, "isf_account_id": isf.id}, headers=world.manager_headers
    )
    assert attached.status_code == 201, attached.json
    assert attached.json["isf_account_id"] == isf.id
    assert attached.json["current_version"] == 2


def test_only_an_isf_funded_arrangement_takes_an_isf_account(client, session):
    world = make_world(session)  # self-funded
    isf = make_isf_account(session, world.agency, world.seeker)
    response = client.post(
        f"/arrangements/{world.arrangement.id}/versions",
        json={
            "effective_from": days_ago(0).isoformat(),
            "change_reason": "x" * 5,
            "isf_account_id": isf.id,
        },
        headers=world.manager_headers,
    )
    assert response.status_code == 422
