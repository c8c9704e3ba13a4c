"""A worker SIGKILLed after Stripe accepted a transfer: the next run pays nothing twice."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from agency.isf.gateway import gateway_for
from agency.isf.models import Payout, PayoutStatus
from agency.isf.payment_runs import run_payment_run
from tests.isf.payment_helpers import money_world
from tests.isf.stripe_fixtures import standin, stripe_app, stripe_settings  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.committed  # another process reads what the test wrote
def test_a_worker_killed_mid_payment_leaves_a_payout_the_next_run_resends_once(
    stripe_app, stripe_settings, session, standin, monkeypatch
):
    client = stripe_app.test_client()
    world = money_world(session, client, standin)
    runner = stripe_app.extensions["agency"].jobs
    monkeypatch.setattr(type(runner), "dispatch", lambda self, *job: None)
    run = client.post("/payment-runs", headers=world["manager"]).get_json()
    standin.hang_seconds = 60  # Stripe commits the transfer, then the answer never comes
    standin.fail_next("timeout_after_commit")
    env = {**os.environ, "DATABASE_URL": stripe_settings.database_url, "REDIS_URL": ""}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from agency.jobs.queue import run_job; run_job({run['job_id']!r})",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while standin.transfer_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert standin.transfer_count() == 1
    finally:
        worker.kill()  # SIGKILL: no cleanup, no except blocks, nothing recorded
        worker.wait()
    session.expire_all()
    payout = session.scalar(select(Payout))
    assert payout.status is PayoutStatus.PENDING and payout.external_id is None
    figures = run_payment_run(session, run["id"], gateway_for(stripe_settings))  # the restart
    assert (figures["sent"], figures["sent_pence"], figures["invoices"]) == (1, 3600, 1)
    session.expire_all()
    payout = session.scalar(select(Payout))
    assert payout.status is PayoutStatus.SENT and payout.attempt == 1
    assert standin.transfer_count() == 1
    assert payout.external_id == standin.transfers[0]["id"]
