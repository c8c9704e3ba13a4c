"""Manual bank transfer (the embedded default): a payment file, then bank references settle."""

import csv
import io

from sqlalchemy import select

from agency.isf.models import Invoice, InvoiceStatus, Payout, PayoutStatus
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.isf.payment_helpers import money_world, queue_worker


def test_a_manual_run_exports_a_payment_file_and_bank_references_settle_it(
    client, session, request
):
    world = money_world(session, client, None, invoices=(3600, 1250))
    work = queue_worker(request)
    run = client.post("/payment-runs", headers=world["manager"]).get_json()
    work()
    assert run["gateway"] == "manual_bank_transfer"
    session.expire_all()
    assert {p.status for p in session.scalars(select(Payout))} == {PayoutStatus.SENT}
    response = client.get(f"/payment-runs/{run['id']}/payment-file", headers=world["manager"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["amount_gbp"] for r in rows) == ["12.50", "36.00"]
    payout_id = rows[0]["payout_id"]
    path = f"/payouts/{payout_id}/bank-reference"
    auditor = bearer(session, make_auditor(session, world["agency"].council))
    _, secret = make_partner(session)
    assert client.post(path, json={"bank_reference": "FP-1"}, headers=auditor).status_code == 403
    other = bearer(session, make_manager(session))
    assert client.post(path, json={"bank_reference": "FP-1"}, headers=other).status_code == 404
    assert (
        client.post(path, json={"bank_reference": "FP-1"}, headers=api_key(secret)).status_code
        == 403
    )
    assert (
        client.post(path, json={"bank_reference": ""}, headers=world["manager"]).status_code == 422
    )
    settled = client.post(path, json={"bank_reference": "FP-1"}, headers=world["manager"])
    assert settled.status_code == 200 and settled.get_json()["status"] == "settled"
    again = client.post(path, json={"bank_reference": "FP-1"}, headers=world["manager"])
    assert again.status_code == 200  # the same reference twice is harmless
    clash = client.post(path, json={"bank_reference": "FP-2"}, headers=world["manager"])
    assert clash.status_code == 409 and clash.get_json()["code"] == "payout_settled"
    session.expire_all()
    payout = session.get(Payout, payout_id)
    assert session.get(Invoice, payout.invoice_id).status is InvoiceStatus.PAID
    file_path = f"/payment-runs/{run['id']}/payment-file"
    assert client.get(file_path, headers=other).status_code == 404
    assert client.get(file_path, headers=auditor).status_code == 403
