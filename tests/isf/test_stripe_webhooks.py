"""The Stripe webhook: verified by the library, once per event, in any order."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import json

from sqlalchemy import func, select, update

from agency.isf.models import (
    AccountKind,
    Invoice,
    InvoiceStatus,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Posting,
)
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.isf.payment_helpers import deliver, money_world, queue_worker
from tests.isf.stripe_fixtures import standin, stripe_app, stripe_client, stripe_settings  # noqa: F401


def held(session, kind, agency_id):
    return session.scalar(
        select(func.coalesce(func.sum(Posting.amount_pence), 0))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.kind == kind, LedgerAccount.agency_id == agency_id)
    )


def paid_world(session, client, standin, request):
    world = money_world(session, client, standin)
    work = queue_worker(request)
    assert client.post("/payment-runs", headers=world["manager"]).status_code == 202
    work()
    return world


def post(client, body, headers):
    return client.post("/webhooks/stripe", data=body, headers=headers)


def test_a_bad_signature_is_refused_with_400(stripe_client, session, standin, request):
    paid_world(session, stripe_client, standin, request)
    event = standin.undelivered[0]
    body, headers = standin.signed(event)
    forged = json.dumps({**event, "type": "transfer.reversed"}).encode()
    response = post(stripe_client, forged, headers)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_signature"
    assert post(stripe_client, body, {}).status_code == 400
    stale, stale_headers = standin.signed(event, timestamp=1_000_000)
    assert post(stripe_client, stale, stale_headers).status_code == 400  # replayed old event
    assert post(stripe_client, body, headers).status_code == 200


def test_an_event_delivered_twice_settles_once(stripe_client, session, standin, request):
    world = paid_world(session, stripe_client, standin, request)
    [event] = list(standin.undelivered)
    body, headers = standin.signed(event)
    first = post(stripe_client, body, headers).get_json()
    second = post(stripe_client, body, headers).get_json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    session.expire_all()
    assert session.scalar(select(Payout.status)) is PayoutStatus.SETTLED
    settlements = session.scalar(
        select(func.count()).where(JournalEntry.kind == "payout_settlement")
    )
    assert settlements == 1
    assert held(session, AccountKind.PROVIDER_PAID, world["agency"].id) == 3600


def test_a_reversal_arriving_before_its_creation_leaves_the_invoice_unpaid(
    stripe_client, session, standin, request
):
    world = paid_world(session, stripe_client, standin, request)
    [created] = list(standin.undelivered)
    standin.undelivered.clear()
    reversed_event = standin.reverse_transfer(created["data"]["object"]["id"])
    standin.undelivered.clear()
    assert post(stripe_client, *standin.signed(reversed_event)).status_code == 200
    assert post(stripe_client, *standin.signed(created)).status_code == 200  # late
    session.expire_all()
    assert session.scalar(select(Payout.status)) is PayoutStatus.REVERSED
    assert session.scalar(select(Invoice.status)) is InvoiceStatus.APPROVED
    agency_id = world["agency"].id
    assert held(session, AccountKind.PROVIDER_PAYABLE, agency_id) == 3600
    assert held(session, AccountKind.CLEARING, agency_id) == 0
    assert held(session, AccountKind.PROVIDER_PAID, agency_id) == 0
    # The next run pays it again, under a new key, exactly once more.
    work = queue_worker(request)
    stripe_client.post("/payment-runs", headers=world["manager"])
    work()
    session.expire_all()
    payout = session.scalar(select(Payout))
    assert payout.attempt == 2 and payout.status is PayoutStatus.SENT
    assert standin.transfer_count() == 2
    deliver(standin, stripe_client)
    session.expire_all()
    assert session.scalar(select(Invoice.status)) is InvoiceStatus.PAID
    assert held(session, AccountKind.PROVIDER_PAID, agency_id) == 3600


def test_a_provider_opens_its_payout_account_and_webhooks_keep_its_status(
    stripe_client, session, standin
):
    world = money_world(session, stripe_client, None)
    headers = world["provider_headers"]
    response = stripe_client.post("/payout-accounts", headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["external_id"].startswith("acct_") and body["status"] == "onboarding"
    assert body["onboarding_url"].startswith(standin.url)
    again = stripe_client.post("/payout-accounts", headers=headers).get_json()
    assert again["external_id"] == body["external_id"]  # resumes, never a second account
    assert len(standin.accounts) == 1
    standin.complete_onboarding(body["external_id"])
    # The same account.updated twice and an older one after it: the state comes from Stripe.
    events = list(standin.undelivered)
    for event in (events[-1], events[-1], events[0]):
        assert post(stripe_client, *standin.signed(event)).status_code == 200
    me = stripe_client.get("/payout-accounts/me", headers=headers).get_json()
    assert me["status"] == "enabled" and me["payouts_enabled"] is True
    session.expire_all()
    assert session.scalar(select(PayoutAccount.status)) == "enabled"


def test_only_a_provider_opens_or_reads_a_payout_account(stripe_client, session, standin):
    world = money_world(session, stripe_client, None)
    _, secret = make_partner(session)
    others = [
        world["manager"],
        bearer(session, make_manager(session)),
        bearer(session, make_auditor(session, world["agency"].council)),
        api_key(secret),
    ]
    for headers in others:
        assert stripe_client.post("/payout-accounts", headers=headers).status_code == 403
        assert stripe_client.get("/payout-accounts/me", headers=headers).status_code == 403
    assert stripe_client.post("/payout-accounts").status_code == 401
    mine = stripe_client.get("/payout-accounts/me", headers=world["provider_headers"])
    assert mine.status_code == 404


def reconcile(client, world, request):
    work = queue_worker(request)
    response = client.post("/reconciliations", headers=world["manager"])
    assert response.status_code == 202
    work()
    job = client.get(f"/jobs/{response.get_json()['job_id']}", headers=world["manager"])
    return job.get_json()["result"]


def test_reconciliation_lists_a_transfer_we_never_recorded(
    stripe_client, session, standin, request
):
    world = money_world(session, stripe_client, standin, invoices=(3600, 1200))
    standin.fail_next("drop_after_commit")  # one transfer is made but never recorded
    work = queue_worker(request)
    stripe_client.post("/payment-runs", headers=world["manager"])
    work()
    result = reconcile(stripe_client, world, request)
    assert result["transfers"] == 2 and result["payouts"] == 2
    [difference] = result["differences"]
    assert difference["kind"] == "transfer_not_recorded"
    assert difference["payout_status"] == "uncertain"  # whichever invoice went first
    assert difference["amount_pence"] in (3600, 1200)
    deliver(standin, stripe_client)  # transfer.created tells us about it after all
    assert reconcile(stripe_client, world, request)["differences"] == []
    auditor = bearer(session, make_auditor(session, world["agency"].council))
    for headers in (auditor, world["provider_headers"]):
        assert stripe_client.post("/reconciliations", headers=headers).status_code == 403


def test_reconciliation_lists_a_kept_balance_that_is_not_the_sum_of_its_postings(
    stripe_client, session, standin, request
):
    world = money_world(session, stripe_client, standin, invoices=(3600,))
    work = queue_worker(request)
    stripe_client.post("/payment-runs", headers=world["manager"])
    work()
    deliver(standin, stripe_client)
    assert reconcile(stripe_client, world, request)["differences"] == []
    # Written behind the ledger's back (no posting): the trigger-kept balance drifts by 1p.
    clearing = LedgerAccount.kind == AccountKind.CLEARING
    session.execute(
        update(LedgerAccount).where(clearing).values(balance_pence=LedgerAccount.balance_pence + 1)
    )
    session.commit()
    [difference] = reconcile(stripe_client, world, request)["differences"]
    assert difference == {
        "kind": "balance_differs",
        "account": f"clearing:{world['agency'].id}",
        "kept_pence": 1,
        "postings_pence": 0,
    }
