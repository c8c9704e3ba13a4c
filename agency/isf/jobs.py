"""Background jobs of the money side: the payment run."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agency.config import Settings
from agency.isf.gateway import gateway_of
from agency.isf.payment_runs import PaymentsUncertain, run_payment_run
from agency.isf.reconciliation import reconcile
from agency.jobs.models import JobRecord
from agency.jobs.queue import job


@job("isf.payment_run")
def payment_run(
    session: Session, record: JobRecord, *, settings: Settings, payment_run_id: str
) -> dict[str, Any]:
    """Pay the run's invoices; fails (so RQ retries, with the same keys) if any were uncertain."""
    # PostgreSQL takes concurrent writers; SQLite has one writer at a time anyway.
    default = 1 if settings.database_url.startswith("sqlite") else 8
    concurrency = int(settings.extra.get("payment_run_concurrency", default))  # type: ignore[call-overload]
    figures = run_payment_run(session, payment_run_id, gateway_of(session, settings), concurrency)
    if figures.get("uncertain"):
        raise PaymentsUncertain(f"{figures['uncertain']} payments got no definitive answer")
    return {"payment_run_id": payment_run_id, **figures}


@job("isf.reconcile")
def reconcile_job(
    session: Session,
    record: JobRecord,
    *,
    settings: Settings,
    agency_id: str,
    days: int | None = None,
) -> dict[str, Any]:
    """Compare the agency's payouts and ledger with the gateway's transfers of the last
    ``days`` days (``RECONCILE_WINDOW_DAYS`` when the job was queued without them)."""
    window = days or settings.reconcile_window_days
    return reconcile(session, agency_id, gateway_of(session, settings), days=window)
