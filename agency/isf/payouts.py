"""Paying one approved invoice exactly once: its payout, clearing, the gateway's answer.

The order of steps is what makes a payment at most once:
1. in one transaction: a Payout row (unique per invoice) and payable -> clearing; commit;
2. call the gateway with the payout's idempotency key (``invoice-<id>-payout``);
3. record the answer. A crash between 1 and 3 leaves a pending payout that the next
   run sends again with the same key, and the payment provider replays its first answer.
Only a definitive refusal reverses clearing and lets a later run try with a new key.
Payment runs (``agency.isf.payment_runs``) pay their agency's invoices this way.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.db import utcnow
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
from agency.unit_of_work import UnitOfWork, unit_of_work

RESENDABLE, RETRYABLE = batches.RESENDABLE, batches.RETRYABLE
SERVER_ERRORS = batches.SERVER_ERRORS
payout_key = batches.payout_key


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


def _found_after_server_error(uow: UnitOfWork, payout: Payout, gateway: PaymentGateway) -> bool:
    """Stripe replays a 5xx for the same key forever: ask whether the transfer exists.

    Found: it was paid, record it. Not found: nothing was paid, so reverse clearing and
    mark the attempt failed, which lets this run try again under the next key.
    """
    session = uow.session
    found = gateway.find_payment(f"{payout.id}-{payout.attempt}")
    if found:
        payout.status = PayoutStatus.SENT
        payout.external_id = found
        payout.sent_at = utcnow()
        uow.commit()
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
    with unit_of_work(session, outermost=True) as uow:
        invoice = session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)
        assert invoice is not None
        if invoice.status is not InvoiceStatus.APPROVED:
            uow.rollback()
            return "already_paid", 0
        payout = session.scalar(select(Payout).where(Payout.invoice_id == invoice_id))
        if payout is not None and payout.status in (PayoutStatus.SENT, PayoutStatus.SETTLED):
            uow.rollback()
            return "already_sent", 0
        if (
            payout is not None
            and payout.status is PayoutStatus.UNCERTAIN
            and payout.error_code in SERVER_ERRORS
            and _found_after_server_error(uow, payout, gateway)
        ):
            return "sent", payout.amount_pence
        destination = _destination(session, invoice.provider_id, gateway)
        if destination is None:
            uow.rollback()
            return "no_payout_account", 0
        if payout is None:
            payout = batches.first_attempt(invoice, payment_run_id, gateway.name)
            session.add(payout)
            try:
                session.flush()
            except IntegrityError:  # another run recorded it first: that run pays it
                uow.rollback()
                return "in_progress", 0
            _post_to_clearing(session, payout)
        elif payout.status in RETRYABLE:
            batches.next_attempt(payout, payment_run_id)
            _post_to_clearing(session, payout)
        elif (
            payment_run_id
            and payout.payment_run_id != payment_run_id
            and _run_is_over(session, payout)
        ):
            payout.payment_run_id = payment_run_id  # left unanswered by a failed run: ours now
        uow.commit()  # recorded before the gateway call: a crash now resends the same key
        attempt = payout.attempt
        transfer = batches.Transfer(
            payout_id=payout.id,
            invoice_id=invoice.id,
            agency_id=payout.agency_id,
            attempt=attempt,
            key=payout.idempotency_key,
            amount_pence=payout.amount_pence,
            destination=destination,
        )
        try:
            external_id = transfer.send(gateway)
        except PaymentRefused as refusal:
            session.refresh(payout)
            if payout.attempt != attempt or payout.status not in RESENDABLE:
                uow.rollback()  # another run already recorded this attempt's outcome
                return "failed", payout.amount_pence
            payout.status = PayoutStatus.FAILED
            payout.error_code = refusal.code[:80]
            entry = entry_by_key(session, f"payout-{payout.id}-{payout.attempt}")
            assert entry is not None
            reverse_entry(session, entry.id, f"Payout refused: {refusal.code}")
            uow.commit()
            return "failed", payout.amount_pence
        except PaymentUncertain as uncertain:
            session.refresh(payout)
            if payout.attempt == attempt and payout.status in RESENDABLE:
                payout.status = PayoutStatus.UNCERTAIN
                payout.error_code = uncertain.code[:80]
            uow.commit()
            return "uncertain", payout.amount_pence
        session.refresh(payout)
        # A webhook may have settled it meanwhile.
        if payout.attempt == attempt and payout.status in RESENDABLE:
            payout.status = PayoutStatus.SENT
            payout.external_id = external_id
            payout.error_code = None
            payout.sent_at = utcnow()
        uow.commit()
        return "sent", payout.amount_pence
