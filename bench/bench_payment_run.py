"""Time a payment run of N invoices through the Stripe stand-in (prints figures; not a test).

    .venv/bin/python bench/bench_payment_run.py --invoices 10000
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python \
        bench/bench_payment_run.py --invoices 10000

On PostgreSQL it works in a scratch database it creates and drops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from agency import create_app  # noqa: E402
from agency.config import Settings  # noqa: E402
from agency.db import utcnow  # noqa: E402
from agency.ids import new_id  # noqa: E402
from agency.isf.gateway import gateway_for  # noqa: E402
from agency.isf.models import (  # noqa: E402
    AccountKind,
    LedgerAccount,
    PaymentRun,
    Posting,
)
from agency.isf.payment_runs import run_payment_run  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from agency.visits.bulk_approval import approve_timesheets  # noqa: E402
from agency.visits.models import Timesheet, TimesheetStatus, Visit, VisitStatus  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from standin.stripe_server import StripeStandin  # noqa: E402
from tests.factories import make_agency, make_manager, make_provider, principal_of  # noqa: E402
from tests.isf.money_factories import (  # noqa: E402
    fund,
    make_isf_account,
    make_isf_arrangement,
    make_payout_account,
)


def submitted_timesheets(session, arrangements, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` submitted timesheets of one 60-90 minute visit each, bulk-inserted."""
    timesheets, visits = [], []
    now = utcnow()
    for n in range(count):
        arrangement = arrangements[n % len(arrangements)]
        day = dt.date(2026, 6, 1) + dt.timedelta(days=n // len(arrangements) % 180)
        minutes = 60 + 30 * (n % 2)
        starts = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
        parties = {
            "arrangement_id": arrangement.id,
            "provider_id": arrangement.provider_id,
            "agency_id": arrangement.agency_id,
            "council_id": arrangement.council_id,
            "partner_client_id": arrangement.partner_client_id,
        }
        timesheet_id = new_id("tms")
        timesheets.append(
            {
                "id": timesheet_id,
                **parties,
                "period_start": day,
                "period_end": day,
                "status": TimesheetStatus.SUBMITTED,
                "submitted_at": now,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        visits.append(
            {
                "id": new_id("vis"),
                **parties,
                "timesheet_id": timesheet_id,
                "date": day,
                "start_time": "09:00",
                "end_time": "10:00" if minutes == 60 else "10:30",
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(minutes=minutes),
                "minutes": minutes,
                "services": ["companionship"],
                "flags": [],
                "status": VisitStatus.CONFIRMED,
                "created_by": "bench",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    session.execute(insert(Timesheet), timesheets)
    session.execute(insert(Visit), visits)
    session.commit()
    return [t["id"] for t in timesheets]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--isfs", type=int, default=500, help="people the invoices are spread over")
    args = parser.parse_args(argv)
    url, drop = scratch_database()
    try:
        upgrade(url)
        with StripeStandin(webhook_secret="whsec_bench") as standin:
            settings = Settings(
                database_url=url,
                stripe_api_key="sk_test_bench",
                stripe_api_base=standin.url,
                stripe_webhook_secret="whsec_bench",
                log_level="WARNING",
            )
            app = create_app(settings)
            session = app.extensions["agency"].sessionmaker()
            agency = make_agency(session)
            providers = []
            for _ in range(args.providers):
                provider = make_provider(session, agency)
                account = standin._create_account({"type": "express"})
                standin.complete_onboarding(account["id"])
                make_payout_account(session, provider, account["id"])
                providers.append(provider)
            arrangements = []
            for n in range(args.isfs):
                isf = make_isf_account(session, agency)
                fund(session, isf, 10_000_000)
                arrangements.append(
                    make_isf_arrangement(session, isf, providers[n % len(providers)])
                )
            standin.undelivered.clear()
            timesheet_ids = submitted_timesheets(session, arrangements, args.invoices)
            manager = principal_of(session, make_manager(session, agency))
            started = time.perf_counter()
            approved = approve_timesheets(session, manager, timesheet_ids)
            assert len(approved["approved"]) == args.invoices, approved["refused"][:3]
            print(
                f"approved {args.invoices} timesheets (POST /timesheets/approvals' service) "
                f"in {time.perf_counter() - started:.1f} s"
            )
            run = PaymentRun(
                id=new_id("prn"),
                agency_id=agency.id,
                council_id=agency.council_id,
                gateway="stripe",
                created_by="bench",
                figures={},
            )
            session.add(run)
            session.commit()
            started = time.perf_counter()
            figures = run_payment_run(session, run.id, gateway_for(settings), args.concurrency)
            took = time.perf_counter() - started
            print(
                f"payment run: {figures} in {took:.1f} s "
                f"({args.invoices / took:.0f} invoices/s), transfers at stand-in: "
                f"{standin.transfer_count()}"
            )
            client = app.test_client()
            started = time.perf_counter()
            answers = standin.deliver_pending(
                lambda body, headers: client.post("/webhooks/stripe", data=body, headers=headers)
            )
            took = time.perf_counter() - started
            print(f"{len(answers)} transfer.created webhooks settled in {took:.1f} s")
            paid = session.scalar(
                select(func.sum(Posting.amount_pence))
                .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
                .where(LedgerAccount.kind == AccountKind.PROVIDER_PAID)
            )
            sent = sum(t["amount"] for t in standin.transfers)
            print(f"ledger provider_paid {paid} p == stand-in transfers {sent} p: {paid == sent}")
            session.close()
    finally:
        drop()


if __name__ == "__main__":
    main()
