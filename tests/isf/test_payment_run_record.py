"""A payment run's record: one documented shape of figures, right even after a killed worker."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agency.accounts.models import Role, User
from agency.isf.gateway import gateway_for
from agency.isf.invoices import approve_invoice
from agency.isf.models import PaymentRun, PaymentRunStatus, Payout, PayoutStatus
from agency.isf.payment_runs import FIGURE_KEYS, run_payment_run
from agency.jobs.models import JobRecord, JobStatus
from tests.factories import make_provider, principal_of
from tests.isf.money_factories import make_isf_arrangement
from tests.isf.payment_helpers import deliver, money_world, queue_worker
from tests.isf.stripe_fixtures import standin, stripe_app, stripe_client, stripe_settings  # noqa: F401
from tests.isf.test_payment_runs import start_run

ROOT = Path(__file__).resolve().parents[2]


def _figures(client, world, run_id):
    run = client.get(f"/payment-runs/{run_id}", headers=world["manager"]).get_json()
    assert run["status"] == "finished"
    assert set(run["figures"]) == set(FIGURE_KEYS)
    return run["figures"]


def test_every_run_reports_the_same_keys_and_skips_are_counted_not_paid(
    stripe_client, session, standin, request
):
    world = money_world(session, stripe_client, standin, invoices=(3600, 1250))
    work = queue_worker(request)
    queued = stripe_client.post("/payment-runs", headers=world["manager"]).get_json()
    assert set(queued["figures"]) == set(FIGURE_KEYS)
    assert not any(queued["figures"].values())
    work()
    first = _figures(stripe_client, world, queued["id"])
    assert first == {**dict.fromkeys(FIGURE_KEYS, 0), "invoices": 2, "sent": 2, "sent_pence": 4850}
    # Sent but not yet settled: a second run leaves them to the first and says so.
    second = _figures(stripe_client, world, start_run(stripe_client, world, request))
    assert second == {**dict.fromkeys(FIGURE_KEYS, 0), "invoices": 2, "skipped_other_run": 2}
    deliver(standin, stripe_client)  # transfer.created settles both
    third = _figures(stripe_client, world, start_run(stripe_client, world, request))
    assert third == dict.fromkeys(FIGURE_KEYS, 0)


def test_an_invoice_of_a_provider_without_a_payout_account_is_skipped_with_no_pence(
    stripe_client, session, standin, request
):
    world = money_world(session, stripe_client, standin, invoices=(3600,))
    unboarded = make_provider(session, world["agency"])
    arrangement = make_isf_arrangement(session, world["isf"], unboarded)
    user = session.scalar(
        select(User).where(User.agency_id == world["agency"].id, User.role == Role.MANAGER)
    )
    approve_invoice(
        session,
        principal_of(session, user),
        arrangement_id=arrangement.id,
        period_start=dt.date(2026, 12, 1),
        period_end=dt.date(2026, 12, 7),
        lines=[{"service": "companionship", "minutes": 60, "pence": 1800}],
        total_pence=1800,
    )
    figures = _figures(stripe_client, world, start_run(stripe_client, world, request))
    assert figures["sent"] == 1 and figures["sent_pence"] == 3600
    assert figures["skipped_no_payout_account"] == 1 and figures["invoices"] == 2
    assert "no_payout_account_pence" not in figures


def _kill_mid_run(standin, stripe_settings, run_id):
    """Run ``run_id`` in a worker process; SIGKILL it once Stripe made transfer 2 and hangs."""
    standin.hang_seconds = 60
    standin.fail_next("timeout_after_commit", after=1)  # transfer 2 is made, its answer hangs
    script = (
        "from sqlalchemy import create_engine; from sqlalchemy.orm import Session; "
        "from agency.config import Settings; from agency.isf.gateway import gateway_for; "
        "from agency.isf.payment_runs import run_payment_run; import agency.models; "
        "s = Settings.from_env(); "
        f"run_payment_run(Session(create_engine(s.database_url)), {run_id!r}, gateway_for(s))"
    )
    env = {**os.environ, "DATABASE_URL": stripe_settings.database_url, "REDIS_URL": ""}
    worker = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while standin.transfer_count() < 2 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker ended before it was killed"
            time.sleep(0.05)
        assert standin.transfer_count() == 2
    finally:
        worker.kill()  # SIGKILL: nothing recorded after this instant
        worker.wait()


@pytest.mark.committed  # another process reads what the test wrote
def test_a_run_whose_worker_is_killed_mid_way_ends_finished_with_every_payout_counted_once(
    stripe_app, stripe_settings, session, standin
):
    """The first invoice is sent; the worker dies while Stripe holds the second's answer."""
    client = stripe_app.test_client()
    world = money_world(session, client, standin, invoices=(3600, 1250))
    run = PaymentRun(
        id="prn_killed_" + os.urandom(6).hex(),
        agency_id=world["agency"].id,
        council_id=world["agency"].council_id,
        gateway="stripe",
        created_by="test",
        figures={},
    )
    session.add(run)
    session.commit()
    _kill_mid_run(standin, stripe_settings, run.id)
    session.expire_all()
    assert session.get(PaymentRun, run.id).status is PaymentRunStatus.RUNNING
    statuses = sorted(p.status.value for p in session.scalars(select(Payout)))
    assert "pending" in statuses  # transfer 2 made at Stripe, its answer never recorded
    figures = run_payment_run(session, run.id, gateway_for(stripe_settings))  # the rerun
    assert figures == {
        **dict.fromkeys(FIGURE_KEYS, 0),
        "invoices": 2,
        "sent": 2,
        "sent_pence": 4850,
    }
    session.expire_all()
    stored = session.get(PaymentRun, run.id)
    assert stored.status is PaymentRunStatus.FINISHED and stored.figures == figures
    assert standin.transfer_count() == 2  # exactly once: the rerun replayed transfer 2's key
    keys = sorted(p.idempotency_key for p in session.scalars(select(Payout)))
    assert keys == sorted(f"invoice-{i.id}-payout" for i in world["invoices"])
    assert {p.status for p in session.scalars(select(Payout))} == {PayoutStatus.SENT}


@pytest.mark.committed  # another process reads what the test wrote
def test_a_run_whose_job_gave_up_after_a_kill_reads_failed_and_the_next_run_finishes_it(
    stripe_app, stripe_settings, session, standin, monkeypatch
):
    client = stripe_app.test_client()
    world = money_world(session, client, standin, invoices=(3600, 1250))
    runner = stripe_app.extensions["agency"].jobs
    monkeypatch.setattr(type(runner), "dispatch", lambda self, *args, **kwargs: True)
    run = client.post("/payment-runs", headers=world["manager"]).json
    _kill_mid_run(standin, stripe_settings, run["id"])
    session.execute(  # what the job system records once the retries are spent
        update(JobRecord).where(JobRecord.id == run["job_id"]).values(status=JobStatus.FAILED)
    )
    session.commit()
    read = client.get(f"/payment-runs/{run['id']}", headers=world["manager"]).json
    assert read["status"] == "failed"
    # A chunk's answers are recorded together: the kill left both payouts unanswered.
    assert read["figures"] == {
        **dict.fromkeys(FIGURE_KEYS, 0),
        "invoices": 2,
        "uncertain": 2,
        "uncertain_pence": 4850,
    }
    again = client.post("/payment-runs", headers=world["manager"]).json
    figures = run_payment_run(session, again["id"], gateway_for(stripe_settings))
    assert figures == {
        **dict.fromkeys(FIGURE_KEYS, 0),
        "invoices": 2,
        "sent": 2,
        "sent_pence": 4850,
    }
    assert standin.transfer_count() == 2  # both resent under their own keys: Stripe replayed
