"""Two payment runs at once (one of them multi-threaded) still pay every invoice exactly once."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import threading

import pytest
from sqlalchemy import func, select

from agency.ids import new_id
from agency.isf.gateway import gateway_for
from agency.isf.models import Invoice, InvoiceStatus, PaymentRun, Payout
from agency.isf.payment_runs import run_payment_run
from tests.isf.payment_helpers import deliver, money_world
from tests.isf.stripe_fixtures import standin, stripe_app, stripe_settings  # noqa: F401


@pytest.mark.postgres  # runs claim invoices with row locks; SQLite has one writer at a time
@pytest.mark.committed  # threads write and read at once: real transactions
def test_two_runs_at_once_pay_each_invoice_once(stripe_app, stripe_settings, session, standin):
    client = stripe_app.test_client()
    world = money_world(session, client, standin, invoices=tuple(range(1000, 1012)))
    runs = []
    for _ in range(2):
        run = PaymentRun(
            id=new_id("prn"),
            agency_id=world["agency"].id,
            council_id=world["agency"].council_id,
            gateway="stripe",
            created_by="test",
            figures={},
        )
        session.add(run)
        runs.append(run.id)
    session.commit()
    sessions = stripe_app.extensions["agency"].sessionmaker
    errors = []

    def work(run_id, concurrency):
        worker_session = sessions()
        try:
            run_payment_run(worker_session, run_id, gateway_for(stripe_settings), concurrency)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            worker_session.close()

    threads = [
        threading.Thread(target=work, args=(run_id, n))
        for run_id, n in zip(runs, (4, 1), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    # A payout another run was still sending may be "uncertain": a third run settles that.
    run_payment_run(session, runs[0], gateway_for(stripe_settings))
    assert standin.transfer_count() == 12
    assert sorted(t["amount"] for t in standin.transfers) == list(range(1000, 1012))
    assert session.scalar(select(func.count()).select_from(Payout)) == 12
    deliver(standin, client)
    session.expire_all()
    assert set(session.scalars(select(Invoice.status))) == {InvoiceStatus.PAID}
