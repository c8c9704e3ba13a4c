"""Paying approved invoices exactly once: payment runs, payouts, settlement.

The order of steps is what makes a payment at most once:
1. in one transaction: a Payout row (unique per invoice) and payable -> clearing; commit;
2. call the gateway with the payout's idempotency key (``invoice-<id>-payout``);
3. record the answer. A crash between 1 and 3 leaves a pending payout that the next
   run sends again with the same key, and the payment provider replays its first answer.
Only a definitive refusal reverses clearing and lets a later run try with a new key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.audit.service import record as audit
from agency.auth import Action, Kind, Principal, load
from agency.db import utcnow
from agency.directory.models import Agency
from agency.errors import Forbidden
from agency.ids import new_id
from agency.isf import payment_batches as batches
from agency.isf.gateway import PaymentGateway, PaymentRefused, PaymentUncertain
from agency.isf.ledger import ledger_account, post_entry, reverse_entry
from agency.isf.manual_gateway import MANUAL_BANK_TRANSFER
from agency.isf.models import (
    AccountKind,
    EntryKind,
    Invoice,
    InvoiceStatus,
    JournalEntry,
    PaymentRun,
    PaymentRunStatus,
    Payout,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutStatus,
)

RESENDABLE, RETRYABLE = batches.RESENDABLE, batches.RETRYABLE
SERVER_ERRORS = batches.SERVER_ERRORS
payout_key = batches.payout_key


class PaymentsUncertain(RuntimeError):
    """Raised by a payment run job so that RQ retries it (same keys) with back-off."""


def ledger_accounts_of(session: Session, payout: Payout):  # type: ignore[no-untyped-def]
    owner = {"agency_id": payout.agency_id, "council_id": payout.council_id}
    payable = ledger_account(
        session, AccountKind.PROVIDER_PAYABLE, provider_id=payout.provider_id, **owner
    )
    clearing = ledger_account(session, AccountKind.CLEARING, **owner)
    paid = ledger_account(
        session, AccountKind.PROVIDER_PAID, provider_id=payout.provider_id, **owner
    )
    return payable, clearing, paid


def _post_to_clearing(session: Session, payout: Payout) -> JournalEntry:
    payable, clearing, _ = ledger_accounts_of(session, payout)
    return post_entry(
        session,
        EntryKind.PAYOUT,
        [(payable, -payout.amount_pence), (clearing, payout.amount_pence)],
        f"Payout {payout.id} of invoice {payout.invoice_id} (attempt {payout.attempt})",
        f"payout-{payout.id}-{payout.attempt}",
        agency_id=payout.agency_id,
        council_id=payout.council_id,
    )


def entry_by_key(session: Session, key: str) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


def start_payment_run(session: Session, principal: Principal, jobs, gateway_name: str):  # type: ignore[no-untyped-def]
    """Queue a payment run of the manager's agency (the job runs after commit)."""
    from agency.auth import Scope

    if principal.kind is not Kind.MANAGER or not principal.agency_id:
        raise Forbidden("Payment runs are started by the agency's manager.")
    agency = session.get(Agency, principal.agency_id)
    assert agency is not None
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
    session.commit()
    return run


def get_payment_run(session: Session, principal: Principal, payment_run_id: str) -> PaymentRun:
    """A payment run as it really stands (see :func:`close_abandoned_runs`)."""
    run = load(session, principal, PaymentRun, payment_run_id, Action.READ)
    if close_abandoned_runs(session, run.agency_id):
        session.commit()
        session.refresh(run)
    return run


def close_abandoned_runs(session: Session, agency_id: str) -> int:
    """Runs left ``queued``/``running`` whose job has failed for good become ``failed``.

    A worker killed on a run's last attempt records nothing itself; the job system marks
    the job failed, and this brings the run's own record in line (figures counted from its
    payouts), at the next read or run of the agency. Not committed.
    """
    from agency.jobs.models import JobRecord, JobStatus

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


def start_reconciliation(session: Session, principal: Principal, jobs):  # type: ignore[no-untyped-def]
    """Queue a comparison of the manager's agency's payouts with the gateway's transfers."""
    from agency.auth import Scope

    if principal.kind is not Kind.MANAGER or not principal.agency_id:
        raise Forbidden("Reconciliation is started by the agency's manager.")
    agency = session.get(Agency, principal.agency_id)
    assert agency is not None
    record = jobs.enqueue(
        session,
        "isf.reconcile",
        {"agency_id": agency.id},
        scope=Scope.of(agency_ids=[agency.id], council_ids=[agency.council_id]),
    )
    session.commit()
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
    run = session.get(PaymentRun, payment_run_id)
    assert run is not None
    run.status = PaymentRunStatus.RUNNING
    session.commit()
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
    session.commit()
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


def _destination(session: Session, provider_id: str, gateway: PaymentGateway) -> str | None:
    account = session.scalar(
        select(PayoutAccount).where(
            PayoutAccount.provider_id == provider_id, PayoutAccount.gateway == gateway.name
        )
    )
    if gateway.name == MANUAL_BANK_TRANSFER:
        return account.external_id if account else f"bank_{provider_id}"
    if account is None or account.status is not PayoutAccountStatus.ENABLED:
        return None
    return account.external_id


def _found_after_server_error(session: Session, payout: Payout, gateway: PaymentGateway) -> bool:
    """Stripe replays a 5xx for the same key forever: ask whether the transfer exists.

    Found: it was paid, record it. Not found: nothing was paid, so reverse clearing and
    mark the attempt failed, which lets this run try again under the next key.
    """
    found = gateway.find_payment(f"{payout.id}-{payout.attempt}")
    if found:
        payout.status = PayoutStatus.SENT
        payout.external_id = found
        payout.sent_at = utcnow()
        session.commit()
        return True
    entry = entry_by_key(session, f"payout-{payout.id}-{payout.attempt}")
    assert entry is not None
    reverse_entry(session, entry.id, "Payout not made: server error, no transfer found")
    payout.status = PayoutStatus.FAILED
    return False


def _run_is_over(session: Session, payout: Payout) -> bool:
    if payout.payment_run_id is None:
        return True
    status = session.scalar(select(PaymentRun.status).where(PaymentRun.id == payout.payment_run_id))
    return status in (PaymentRunStatus.FINISHED, PaymentRunStatus.FAILED)


def pay_invoice(
    session: Session, invoice_id: str, gateway: PaymentGateway, payment_run_id: str | None = None
) -> tuple[str, int]:
    """Send one invoice's payment at most once; returns (outcome, pence)."""
    invoice = session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)
    assert invoice is not None
    if invoice.status is not InvoiceStatus.APPROVED:
        session.rollback()
        return "already_paid", 0
    payout = session.scalar(select(Payout).where(Payout.invoice_id == invoice_id))
    if payout is not None and payout.status in (PayoutStatus.SENT, PayoutStatus.SETTLED):
        session.rollback()
        return "already_sent", 0
    if (
        payout is not None
        and payout.status is PayoutStatus.UNCERTAIN
        and payout.error_code in SERVER_ERRORS
        and _found_after_server_error(session, payout, gateway)
    ):
        return "sent", payout.amount_pence
    destination = _destination(session, invoice.provider_id, gateway)
    if destination is None:
        session.rollback()
        return "no_payout_account", 0
    if payout is None:
        payout = Payout(
            id=new_id("pay"),
            invoice_id=invoice.id,
            payment_run_id=payment_run_id,
            provider_id=invoice.provider_id,
            agency_id=invoice.agency_id,
            council_id=invoice.council_id,
            amount_pence=invoice.total_pence,
            gateway=gateway.name,
            attempt=1,
            idempotency_key=payout_key(invoice.id, 1),
        )
        session.add(payout)
        try:
            session.flush()
        except IntegrityError:  # another run recorded it first: that run pays it
            session.rollback()
            return "in_progress", 0
        _post_to_clearing(session, payout)
    elif payout.status in RETRYABLE:
        payout.attempt += 1
        payout.idempotency_key = payout_key(invoice.id, payout.attempt)
        payout.status = PayoutStatus.PENDING
        payout.external_id = None
        payout.error_code = None
        payout.payment_run_id = payment_run_id
        _post_to_clearing(session, payout)
    elif (
        payment_run_id and payout.payment_run_id != payment_run_id and _run_is_over(session, payout)
    ):
        payout.payment_run_id = payment_run_id  # left unanswered by a failed run: ours now
    session.commit()  # recorded before the gateway call: a crash now resends the same key
    attempt = payout.attempt
    try:
        external_id = gateway.pay(
            amount_pence=payout.amount_pence,
            destination=destination,
            idempotency_key=payout.idempotency_key,
            transfer_group=f"{payout.id}-{payout.attempt}",
            metadata={
                "payout_id": payout.id,
                "invoice_id": invoice.id,
                "attempt": str(payout.attempt),
                "agency_id": payout.agency_id,
            },
        )
    except PaymentRefused as refusal:
        session.refresh(payout)
        if payout.attempt != attempt or payout.status not in RESENDABLE:
            session.rollback()  # another run already recorded this attempt's outcome
            return "failed", payout.amount_pence
        payout.status = PayoutStatus.FAILED
        payout.error_code = refusal.code[:80]
        entry = entry_by_key(session, f"payout-{payout.id}-{payout.attempt}")
        assert entry is not None
        reverse_entry(session, entry.id, f"Payout refused: {refusal.code}")
        session.commit()
        return "failed", payout.amount_pence
    except PaymentUncertain as uncertain:
        session.refresh(payout)
        if payout.attempt == attempt and payout.status in RESENDABLE:
            payout.status = PayoutStatus.UNCERTAIN
            payout.error_code = uncertain.code[:80]
        session.commit()
        return "uncertain", payout.amount_pence
    session.refresh(payout)
    if payout.attempt == attempt and payout.status in RESENDABLE:  # a webhook may have settled it
        payout.status = PayoutStatus.SENT
        payout.external_id = external_id
        payout.error_code = None
        payout.sent_at = utcnow()
    session.commit()
    return "sent", payout.amount_pence


def payouts_of_run(session: Session, principal: Principal, payment_run_id: str) -> list[Payout]:
    load(session, principal, PaymentRun, payment_run_id, Action.READ)
    return list(
        session.scalars(
            select(Payout).where(Payout.payment_run_id == payment_run_id).order_by(Payout.id)
        )
    )
