"""Payment runs: a manager queues one, the job pays every approved ISF invoice of the
agency (``agency.isf.payouts`` pays each at most once), and the run records its figures.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, Scope, load
from agency.audit.service import record as audit
from agency.db import utcnow
from agency.directory.models import Agency
from agency.errors import Forbidden
from agency.ids import new_id
from agency.isf import payment_batches as batches
from agency.isf.gateway import PaymentGateway
from agency.isf.models import (
    Invoice,
    InvoiceStatus,
    PaymentRun,
    PaymentRunStatus,
    Payout,
    PayoutStatus,
)
from agency.isf.payouts import pay_invoice
from agency.jobs.models import JobRecord, JobStatus
from agency.unit_of_work import unit_of_work


class PaymentsUncertain(RuntimeError):
    """Raised by a payment run job so that RQ retries it (same keys) with back-off."""


def start_payment_run(session: Session, principal: Principal, jobs, gateway_name: str):  # type: ignore[no-untyped-def]
    """Queue a payment run of the manager's agency (the job runs after commit)."""

    if principal.kind is not Kind.MANAGER or not principal.agency_id:
        raise Forbidden("Payment runs are started by the agency's manager.")
    agency = session.get(Agency, principal.agency_id)
    assert agency is not None
    with unit_of_work(session) as uow:
        close_abandoned_runs(session, agency.id)
        run = PaymentRun(
            id=new_id("prn"),
            agency_id=agency.id,
            council_id=agency.council_id,
            gateway=gateway_name,
            created_by=principal.id,
            figures=dict.fromkeys(FIGURE_KEYS, 0),
        )
        session.add(run)
        record = jobs.enqueue(
            session,
            "isf.payment_run",
            {"payment_run_id": run.id},
            scope=Scope.of(agency_ids=[agency.id], council_ids=[agency.council_id]),
        )
        run.job_id = record.id
        audit(session, principal, "payment_run.started", run, None, {"gateway": gateway_name})
        uow.commit()
    return run


def get_payment_run(session: Session, principal: Principal, payment_run_id: str) -> PaymentRun:
    """A payment run as it really stands (see :func:`close_abandoned_runs`)."""
    run = load(session, principal, PaymentRun, payment_run_id, Action.READ)
    with unit_of_work(session) as uow:
        if close_abandoned_runs(session, run.agency_id):
            uow.commit()
            session.refresh(run)
    return run


def close_abandoned_runs(session: Session, agency_id: str) -> int:
    """Runs left ``queued``/``running`` whose job has failed for good become ``failed``.

    A worker killed on a run's last attempt records nothing itself; the job system marks
    the job failed, and this brings the run's own record in line (figures counted from its
    payouts), at the next read or run of the agency. Not committed.
    """
    stuck = session.scalars(
        select(PaymentRun)
        .join(JobRecord, JobRecord.id == PaymentRun.job_id)
        .where(
            PaymentRun.agency_id == agency_id,
            PaymentRun.status.in_((PaymentRunStatus.QUEUED, PaymentRunStatus.RUNNING)),
            JobRecord.status == JobStatus.FAILED,
        )
        .with_for_update(of=PaymentRun)
    ).all()
    for run in stuck:
        before = run.status
        run.figures = run_figures(session, run.id, {})
        run.status = PaymentRunStatus.FAILED
        run.finished_at = utcnow()
        audit(
            session,
            None,
            "payment_run.failed",
            run,
            {"status": before.value},
            {"status": run.status.value, **run.figures},
        )
    return len(stuck)


def start_reconciliation(session: Session, principal: Principal, jobs, days: int):  # type: ignore[no-untyped-def]
    """Queue a comparison of the manager's agency's payouts with the gateway's transfers of
    the last ``days`` days (``agency.isf.reconciliation``)."""

    if principal.kind is not Kind.MANAGER or not principal.agency_id:
        raise Forbidden("Reconciliation is started by the agency's manager.")
    agency = session.get(Agency, principal.agency_id)
    assert agency is not None
    with unit_of_work(session) as uow:
        record = jobs.enqueue(
            session,
            "isf.reconcile",
            {"agency_id": agency.id, "days": days},
            scope=Scope.of(agency_ids=[agency.id], council_ids=[agency.council_id]),
        )
        uow.commit()
    return record


def unpaid_isf_invoices(session: Session, agency_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Invoice.id)
            .where(
                Invoice.agency_id == agency_id,
                Invoice.status == InvoiceStatus.APPROVED,
                Invoice.isf_account_id.is_not(None),
            )
            .order_by(Invoice.approved_at, Invoice.id)
        )
    )


def run_payment_run(
    session: Session, payment_run_id: str, gateway: PaymentGateway, concurrency: int = 1
) -> dict:  # type: ignore[type-arg]
    """Pay every approved, unpaid ISF invoice of the run's agency; safe to run again.

    In chunks (``agency.isf.payment_batches``): each chunk's payouts and ledger entries in
    one transaction, then its transfers ``concurrency`` at a time (a real Stripe call takes
    a few hundred milliseconds), then their answers in one transaction.
    """
    with unit_of_work(session, outermost=True) as uow:
        run = session.get(PaymentRun, payment_run_id)
        assert run is not None
        run.status = PaymentRunStatus.RUNNING
        uow.commit()
    invoice_ids = unpaid_isf_invoices(session, run.agency_id)
    outcomes: dict[str, str] = {}
    for chunk in batches.chunks(invoice_ids):
        transfers, skipped, slow = batches.record_chunk(session, chunk, gateway, payment_run_id)
        outcomes.update(skipped)
        outcomes.update(
            batches.record_answers(session, batches.send(transfers, gateway, concurrency))
        )
        for invoice_id in slow:  # a stored 5xx: ask Stripe first, one by one
            outcomes[invoice_id] = pay_invoice(session, invoice_id, gateway, payment_run_id)[0]
    with unit_of_work(session) as uow:
        figures = run_figures(session, payment_run_id, outcomes)
        run = session.get(PaymentRun, payment_run_id)
        assert run is not None
        run.figures = figures
        before = run.status
        run.status = PaymentRunStatus.FINISHED
        run.finished_at = utcnow()
        audit(
            session,
            None,
            "payment_run.finished",
            run,
            {"status": before.value},
            {"status": run.status.value, **figures},
        )
        uow.commit()
    return figures


# Every run's ``figures`` has exactly these keys (docs/isf.md, "Payment-run figures").
FIGURE_KEYS = (
    "invoices",
    "sent",
    "sent_pence",
    "failed",
    "failed_pence",
    "uncertain",
    "uncertain_pence",
    "skipped_no_payout_account",
    "skipped_other_run",
)
_FIGURE_OF_STATUS = {
    PayoutStatus.SENT: "sent",
    PayoutStatus.SETTLED: "sent",
    PayoutStatus.REVERSED: "sent",  # sent by this run, taken back by the provider later
    PayoutStatus.FAILED: "failed",
    PayoutStatus.PENDING: "uncertain",
    PayoutStatus.UNCERTAIN: "uncertain",
}
_SKIPS = {
    "no_payout_account": "skipped_no_payout_account",
    "already_sent": "skipped_other_run",
    "already_paid": "skipped_other_run",
    "in_progress": "skipped_other_run",
}


def run_figures(session: Session, payment_run_id: str, outcomes: dict[str, str]) -> dict[str, int]:
    """The run's figures, counted from its payouts in the database, not from this process.

    So a run rerun after its worker was killed reports what the killed attempt paid too.
    ``outcomes`` (invoice id -> what this attempt did) only adds the invoices it skipped,
    which have no payout of this run: counted, never reported as pence paid.
    """
    figures = dict.fromkeys(FIGURE_KEYS, 0)
    rows = session.execute(
        select(Payout.invoice_id, Payout.status, Payout.amount_pence).where(
            Payout.payment_run_id == payment_run_id
        )
    ).all()
    for _invoice_id, status, amount in rows:
        name = _FIGURE_OF_STATUS[status]
        figures[name] += 1
        figures[f"{name}_pence"] += amount
    own = {invoice_id for invoice_id, _, _ in rows}
    for invoice_id, outcome in outcomes.items():
        if invoice_id not in own and outcome in _SKIPS:
            figures[_SKIPS[outcome]] += 1
    counts = ("sent", "failed", "uncertain", "skipped_no_payout_account", "skipped_other_run")
    figures["invoices"] = sum(figures[name] for name in counts)
    return figures


def payouts_of_run(session: Session, principal: Principal, payment_run_id: str) -> list[Payout]:
    load(session, principal, PaymentRun, payment_run_id, Action.READ)
    return list(
        session.scalars(
            select(Payout).where(Payout.payment_run_id == payment_run_id).order_by(Payout.id)
        )
    )
