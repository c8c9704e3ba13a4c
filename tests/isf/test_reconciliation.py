"""Reconciliation over a window: the gateway is asked for the window's transfers only, and
only the window's payouts are checked for a missing transfer, without a false difference at
either edge of the window."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import datetime as dt

from rq.job import Job
from sqlalchemy import select, update

from agency.bootstrap import JOB_TIMEOUT_OF
from agency.config import RECONCILE_WINDOW_DAYS
from agency.db import utcnow
from agency.isf.models import Payout, PayoutStatus
from agency.isf.reconciliation import LISTING_MARGIN, reconcile
from agency.isf.stripe_gateway import StripeConnectGateway
from agency.jobs.models import JobRecord
from tests.isf.payment_helpers import deliver, money_world, queue_worker
from tests.isf.stripe_fixtures import (  # noqa: F401
    API_KEY,
    standin,
    stripe_app,
    stripe_client,
    stripe_settings,
)


def paid(session, client, standin, request, invoices, settle=True):
    """A world whose invoices were paid by a payment run; {amount: payout}."""
    world = money_world(session, client, standin, invoices=invoices)
    work = queue_worker(request)
    assert client.post("/payment-runs", headers=world["manager"]).status_code == 202
    work()
    if settle:
        deliver(standin, client)
    session.expire_all()
    return world, {p.amount_pence: p for p in session.scalars(select(Payout))}


def made_at(session, payout, when):
    session.execute(update(Payout).where(Payout.id == payout.id).values(created_at=when))
    session.commit()


def transfer_of(standin, payout):
    return next(t for t in standin.transfers if t["id"] == payout.external_id)


def test_the_window_edges_give_no_false_difference(stripe_client, session, standin, request):
    world, payouts = paid(session, stripe_client, standin, request, (3600, 1200, 2400, 500))
    agency_id = world["agency"].id
    gateway = StripeConnectGateway(API_KEY, standin.url)
    now = utcnow().replace(microsecond=0)
    since = now - dt.timedelta(days=RECONCILE_WINDOW_DAYS)
    # Made before the window, its transfer inside it (resent after a reversal, or retried):
    # the transfer is matched by its id, not listed as money we have no record of.
    made_at(session, payouts[3600], since - dt.timedelta(days=2))
    # Made and paid before the window: neither side is compared.
    made_at(session, payouts[1200], since - dt.timedelta(days=3))
    transfer_of(standin, payouts[1200])["created"] = int(
        (since - LISTING_MARGIN - dt.timedelta(seconds=1)).timestamp()
    )
    # Made a second into the window, dated by Stripe's clock (minutes apart from ours,
    # whole seconds) before it: the margin lists it, so it is not reported missing.
    made_at(session, payouts[2400], since + dt.timedelta(seconds=1))
    transfer_of(standin, payouts[2400])["created"] = int(
        (since - dt.timedelta(minutes=5)).timestamp()
    )
    # Made as the window starts, its transfer dated at the very start of the listing.
    made_at(session, payouts[500], since)
    transfer_of(standin, payouts[500])["created"] = int((since - LISTING_MARGIN).timestamp())

    result = reconcile(session, agency_id, gateway, now=now)

    assert result["differences"] == []
    assert result["transfers"] == 3  # 3600, 2400, 500: not 1200's, from before the listing
    assert result["payouts"] == 2  # 2400, 500: made in the window
    assert result["window"] == {
        "days": RECONCILE_WINDOW_DAYS,
        "from": since.isoformat(),
        "to": now.isoformat(),
        "transfers_listed_from": (since - LISTING_MARGIN).isoformat(),
    }
    # A second before the listing starts: a payout of the window no longer finds it.
    transfer_of(standin, payouts[500])["created"] -= 1
    [missing] = reconcile(session, agency_id, gateway, now=now)["differences"]
    assert missing == {
        "kind": "transfer_missing",
        "payout_id": payouts[500].id,
        "transfer_id": payouts[500].external_id,
    }


def test_a_transfer_gone_from_stripe_is_missing_only_for_a_payout_of_the_window(
    stripe_client, session, standin, request
):
    world, payouts = paid(session, stripe_client, standin, request, (3600, 1200))
    gateway = StripeConnectGateway(API_KEY, standin.url)
    now = utcnow()
    with standin._lock:
        standin.transfers[:] = []  # Stripe knows of neither transfer
    result = reconcile(session, world["agency"].id, gateway, now=now, days=7)
    assert sorted(d["payout_id"] for d in result["differences"]) == sorted(
        p.id for p in payouts.values()
    )
    assert {d["kind"] for d in result["differences"]} == {"transfer_missing"}
    made_at(session, payouts[1200], now - dt.timedelta(days=8))  # before a 7-day window
    [missing] = reconcile(session, world["agency"].id, gateway, now=now, days=7)["differences"]
    assert missing["payout_id"] == payouts[3600].id
    assert reconcile(session, world["agency"].id, gateway, now=now, days=9)["payouts"] == 2


def test_an_unrecorded_transfer_names_its_payout_however_old(
    stripe_client, session, standin, request
):
    world = money_world(session, stripe_client, standin, invoices=(3600,))
    standin.fail_next("drop_after_commit")  # the transfer is made but never recorded
    work = queue_worker(request)
    stripe_client.post("/payment-runs", headers=world["manager"])
    work()
    session.expire_all()
    payout = session.scalar(select(Payout))
    assert payout.status is PayoutStatus.UNCERTAIN and payout.external_id is None
    now = utcnow()
    made_at(session, payout, now - dt.timedelta(days=200))
    gateway = StripeConnectGateway(API_KEY, standin.url)
    result = reconcile(session, world["agency"].id, gateway, now=now)
    [transfer] = standin.transfers
    assert result["payouts"] == 0 and result["differences"] == [
        {
            "kind": "transfer_not_recorded",
            "transfer_id": transfer["id"],
            "payout_id": payout.id,
            "payout_status": "uncertain",
            "amount_pence": 3600,
        }
    ]


def test_the_gateway_is_asked_only_for_the_windows_transfers(
    stripe_client, session, standin, request, monkeypatch
):
    world, _ = paid(session, stripe_client, standin, request, (3600,))
    asked = []
    page = standin._page

    def listing(items, url, params, filters):  # type: ignore[no-untyped-def]
        asked.append((url, params))
        return page(items, url, params, filters)

    monkeypatch.setattr(standin, "_page", listing)
    now = utcnow()
    reconcile(session, world["agency"].id, StripeConnectGateway(API_KEY, standin.url), now=now)
    start = now - dt.timedelta(days=RECONCILE_WINDOW_DAYS) - LISTING_MARGIN
    assert asked == [
        ("/v1/transfers", {"limit": "100", "created": {"gte": str(int(start.timestamp()))}})
    ]


def _reconcile(client, world, request, query=""):
    work = queue_worker(request)
    response = client.post(f"/reconciliations{query}", headers=world["manager"])
    assert response.status_code == 202, response.get_json()
    work()
    job = client.get(f"/jobs/{response.get_json()['job_id']}", headers=world["manager"])
    return response.get_json(), job.get_json()["result"]


def test_a_manager_chooses_the_window_and_sees_it_in_the_result(
    stripe_client, session, standin, request
):
    world, _ = paid(session, stripe_client, standin, request, (3600,))
    started, result = _reconcile(stripe_client, world, request)
    assert started["days"] == RECONCILE_WINDOW_DAYS == result["window"]["days"]
    assert (result["transfers"], result["payouts"], result["differences"]) == (1, 1, [])
    started, result = _reconcile(stripe_client, world, request, "?days=366")
    assert started["days"] == 366 == result["window"]["days"]
    for days in ("0", "367", "x", "7.5"):
        response = stripe_client.post(f"/reconciliations?days={days}", headers=world["manager"])
        assert response.status_code == 422, days
    # Who is asking comes before what they asked.
    assert stripe_client.post("/reconciliations?days=0").status_code == 401
    provider = world["provider_headers"]
    assert stripe_client.post("/reconciliations?days=0", headers=provider).status_code == 403


def test_a_job_queued_before_the_window_existed_uses_the_setting(
    stripe_app, stripe_client, session, standin, request
):
    # Rows written by the previous release carry only the agency.
    world, _ = paid(session, stripe_client, standin, request, (3600,))
    jobs = stripe_app.extensions["agency"].jobs
    work = queue_worker(request)
    record = jobs.enqueue(session, "isf.reconcile", {"agency_id": world["agency"].id})
    session.commit()
    work()
    session.expire_all()
    result = session.get(JobRecord, record.id).result
    assert result["window"]["days"] == RECONCILE_WINDOW_DAYS and result["differences"] == []


def test_the_reconcile_and_payment_run_jobs_get_longer_timeouts_than_rqs_default(
    stripe_client, session, standin, rq_queue
):
    world = money_world(session, stripe_client, standin, invoices=(3600,))
    reconciling = stripe_client.post("/reconciliations", headers=world["manager"]).get_json()
    running = stripe_client.post("/payment-runs", headers=world["manager"]).get_json()
    connection = rq_queue.connection
    assert Job.fetch(reconciling["job_id"], connection=connection).timeout == 30 * 60
    assert JOB_TIMEOUT_OF["isf.reconcile"] == 30 * 60
    assert Job.fetch(running["job_id"], connection=connection).timeout == 60 * 60
    # A name the map leaves out keeps RQ's default.
    pinged = stripe_client.application.extensions["agency"].jobs.enqueue(session, "ping")
    session.commit()
    assert Job.fetch(pinged.id, connection=connection).timeout == rq_queue.DEFAULT_TIMEOUT


def test_amounts_are_compared_in_the_window_and_ledger_totals_over_all_history(
    stripe_client, session, standin, request
):
    world, payouts = paid(session, stripe_client, standin, request, (3600, 1200))
    gateway = StripeConnectGateway(API_KEY, standin.url)
    agency_id = world["agency"].id
    transfer_of(standin, payouts[1200])["amount"] = 1300
    [differs] = reconcile(session, agency_id, gateway)["differences"]
    assert differs == {
        "kind": "amount_differs",
        "transfer_id": payouts[1200].external_id,
        "payout_id": payouts[1200].id,
        "ours_pence": 1200,
        "theirs_pence": 1300,
    }
    transfer_of(standin, payouts[1200])["amount"] = 1200
    # A payout from long before the window, marked unsettled behind the ledger's back: the
    # ledger says 4,800p paid, the payouts say 1,200p settled and 3,600p in flight.
    made_at(session, payouts[3600], utcnow() - dt.timedelta(days=400))
    session.execute(
        update(Payout).where(Payout.id == payouts[3600].id).values(status=PayoutStatus.SENT)
    )
    session.commit()
    result = reconcile(session, agency_id, gateway)
    assert result["payouts"] == 1 and result["differences"] == [
        {
            "kind": "ledger_differs",
            "clearing_pence": 0,
            "provider_paid_pence": 4800,
            "in_flight_pence": 3600,
            "settled_pence": 1200,
        }
    ]
