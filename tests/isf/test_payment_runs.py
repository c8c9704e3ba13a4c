"""Payment runs through the real stripe library and the stand-in: each invoice paid once."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import pytest
from sqlalchemy import func, select

from agency.isf.models import (
    AccountKind,
    Invoice,
    InvoiceStatus,
    LedgerAccount,
    Payout,
    PayoutStatus,
    Posting,
)
from agency.isf.payouts import pay_invoice
from agency.isf.stripe_gateway import StripeConnectGateway
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.isf.payment_helpers import deliver, money_world, queue_worker
from tests.isf.stripe_fixtures import (  # noqa: F401
    API_KEY,
    standin,
    stripe_app,
    stripe_client,
    stripe_settings,
)


def held(session, kind, agency_id):
    return session.scalar(
        select(func.coalesce(func.sum(Posting.amount_pence), 0))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.kind == kind, LedgerAccount.agency_id == agency_id)
    )


def start_run(client, world, request):
    work = queue_worker(request)
    response = client.post("/payment-runs", headers=world["manager"])
    assert response.status_code == 202, response.get_json()
    work()
    return response.get_json()["id"]


def payouts(session):
    session.expire_all()
    return session.scalars(select(Payout).order_by(Payout.amount_pence)).all()


def test_a_run_pays_each_invoice_once_and_the_webhook_settles_it(
    stripe_client,
    session,
    standin,
    request,
):
    world = money_world(session, stripe_client, standin, invoices=(3600, 5400))
    run_id = start_run(stripe_client, world, request)
    assert standin.transfer_count() == 2
    assert {p.status for p in payouts(session)} == {PayoutStatus.SENT}
    keys = [key for _, path, key in standin.requests if path == "/v1/transfers"]
    assert sorted(keys) == sorted(f"invoice-{invoice.id}-payout" for invoice in world["invoices"])
    agency_id = world["agency"].id
    assert held(session, AccountKind.CLEARING, agency_id) == 9000
    answers = deliver(standin, stripe_client)
    assert [a.status_code for a in answers] == [200, 200]
    session.expire_all()
    assert {p.status for p in payouts(session)} == {PayoutStatus.SETTLED}
    paid = session.scalars(select(Invoice)).all()
    assert {i.status for i in paid} == {InvoiceStatus.PAID} and {i.days_to_paid for i in paid} == {
        0
    }
    assert held(session, AccountKind.PROVIDER_PAID, agency_id) == 9000
    assert held(session, AccountKind.CLEARING, agency_id) == 0
    assert held(session, AccountKind.PROVIDER_PAYABLE, agency_id) == 0
    start_run(stripe_client, world, request)  # a second run finds nothing to pay
    assert standin.transfer_count() == 2
    run = stripe_client.get(f"/payment-runs/{run_id}", headers=world["manager"]).get_json()
    assert run["status"] == "finished" and run["figures"]["sent"] == 2
    listed = stripe_client.get(f"/payment-runs/{run_id}/payouts", headers=world["manager"])
    assert len(listed.get_json()) == 2


def test_a_refused_transfer_goes_back_to_payable_and_a_later_run_pays_it(
    stripe_client,
    session,
    standin,
    request,
):
    world = money_world(session, stripe_client, standin)
    standin.fail_next("balance_insufficient")
    start_run(stripe_client, world, request)
    [payout] = payouts(session)
    assert payout.status is PayoutStatus.FAILED and payout.error_code == "balance_insufficient"
    assert held(session, AccountKind.PROVIDER_PAYABLE, world["agency"].id) == 3600
    assert held(session, AccountKind.CLEARING, world["agency"].id) == 0
    start_run(stripe_client, world, request)
    [payout] = payouts(session)
    assert payout.status is PayoutStatus.SENT and payout.attempt == 2
    assert payout.idempotency_key.endswith("-payout-2")
    assert standin.transfer_count() == 1


@pytest.mark.parametrize("fault", ["drop_after_commit", "rate_limit"])
def test_no_answer_from_stripe_is_retried_with_the_same_key_and_pays_once(
    stripe_client,
    session,
    standin,
    request,
    fault,
):
    world = money_world(session, stripe_client, standin)
    standin.fail_next(fault)
    start_run(stripe_client, world, request)
    [payout] = payouts(session)
    assert payout.status is PayoutStatus.UNCERTAIN
    made_before_retry = standin.transfer_count()
    assert made_before_retry == (1 if fault == "drop_after_commit" else 0)
    start_run(stripe_client, world, request)  # a retried job or a second run: same key
    [payout] = payouts(session)
    assert payout.status is PayoutStatus.SENT and payout.attempt == 1
    assert standin.transfer_count() == 1
    keys = [key for _, path, key in standin.requests if path == "/v1/transfers"]
    assert keys == [payout.idempotency_key] * 2


def test_a_time_out_after_stripe_accepted_is_replayed_not_paid_again(
    stripe_app,
    stripe_settings,
    session,
    standin,
):
    world = money_world(session, stripe_app.test_client(), standin)
    impatient = StripeConnectGateway(API_KEY, standin.url, timeout=0.5)
    standin.hang_seconds = 1.5
    standin.fail_next("timeout_after_commit")
    invoice_id = world["invoices"][0].id
    assert pay_invoice(session, invoice_id, impatient)[0] == "uncertain"
    assert standin.transfer_count() == 1
    assert pay_invoice(session, invoice_id, impatient)[0] == "sent"
    assert pay_invoice(session, invoice_id, impatient)[0] == "already_sent"
    assert standin.transfer_count() == 1


def test_a_stored_server_error_is_resolved_by_asking_stripe_then_a_new_key(
    stripe_client,
    session,
    standin,
    request,
):
    world = money_world(session, stripe_client, standin)
    standin.fail_next("api_error")
    start_run(stripe_client, world, request)
    assert payouts(session)[0].status is PayoutStatus.UNCERTAIN
    start_run(stripe_client, world, request)
    [payout] = payouts(session)
    assert payout.status is PayoutStatus.SENT and payout.attempt == 2
    assert standin.transfer_count() == 1
    assert held(session, AccountKind.CLEARING, world["agency"].id) == 3600


def test_a_provider_without_an_enabled_payout_account_is_skipped(
    stripe_client,
    session,
    request,
):
    world = money_world(session, stripe_client, None)
    start_run(stripe_client, world, request)
    assert payouts(session) == []


def test_only_the_agencys_manager_starts_or_reads_a_run(
    stripe_client,
    session,
    standin,
    request,
):
    world = money_world(session, stripe_client, standin)
    run_id = start_run(stripe_client, world, request)
    auditor = bearer(session, make_auditor(session, world["agency"].council))
    other = bearer(session, make_manager(session))
    _, secret = make_partner(session)
    for headers in (auditor, world["provider_headers"], api_key(secret)):
        assert stripe_client.post("/payment-runs", headers=headers).status_code == 403
    assert stripe_client.get(f"/payment-runs/{run_id}", headers=auditor).status_code == 200
    for headers, status in ((other, 404), (world["provider_headers"], 403), (api_key(secret), 403)):
        assert stripe_client.get(f"/payment-runs/{run_id}", headers=headers).status_code == status
        path = f"/payment-runs/{run_id}/payouts"
        assert stripe_client.get(path, headers=headers).status_code == status
