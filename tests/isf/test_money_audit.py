"""Money moves are state changes: allocations, returns, payment runs and settlements are audited."""

from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.audit.service import verify_chain
from tests.isf.payment_helpers import money_world, queue_worker


def _actions(session, object_id=None):
    session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.sequence)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return [(e.action, e.after) for e in session.scalars(stmt)]


def test_allocations_returns_runs_and_settlements_reach_the_audit_log(client, session, request):
    world = money_world(session, client, None, invoices=(3600,))
    isf_id, headers = world["isf"].id, world["manager"]
    body = {
        "amount_pence": 5_000,
        "period_start": "2026-12-01",
        "period_end": "2026-12-28",
        "memo": "Four-weekly for Mrs Example",
        "idempotency_key": "alloc-2026-12-a",
    }
    first = client.post(f"/isf-accounts/{isf_id}/allocations", json=body, headers=headers)
    again = client.post(f"/isf-accounts/{isf_id}/allocations", json=body, headers=headers)
    assert first.status_code == 201 and again.json["id"] == first.json["id"]
    work = queue_worker(request)
    run = client.post("/payment-runs", headers=headers).json
    work()
    [payout] = client.get(f"/payment-runs/{run['id']}/payouts", headers=headers).json
    settled = client.post(
        f"/payouts/{payout['id']}/bank-reference", json={"bank_reference": "FP-9"}, headers=headers
    )
    assert settled.status_code == 200
    returned = client.post(f"/isf-accounts/{isf_id}/returns", json={"close": True}, headers=headers)
    assert returned.status_code == 201, returned.json

    on_isf = [action for action, _ in _actions(session, isf_id)]
    assert on_isf == ["isf_account.allocated", "isf_account.returned", "isf_account.closed"]
    allocated = dict(_actions(session, isf_id))["isf_account.allocated"]
    assert allocated["amount_pence"] == 5_000 and allocated["entry_id"] == first.json["id"]
    assert allocated["memo"].startswith("sha256:")  # the text never enters the trail
    assert [a for a, _ in _actions(session, run["id"])] == [
        "payment_run.started",
        "payment_run.finished",
    ]
    finished = dict(_actions(session, run["id"]))["payment_run.finished"]
    assert finished["sent"] == 1 and finished["sent_pence"] == 3600
    [(action, after)] = _actions(session, payout["id"])
    assert action == "payout.settled" and after["amount_pence"] == 3600
    log = client.get("/audit-log", query_string={"object_id": isf_id}, headers=headers)
    assert [e["action"] for e in log.json][:1] == ["isf_account.allocated"]
    assert verify_chain(session).ok
