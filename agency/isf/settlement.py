"""Settling payouts: the payment provider confirmed (or took back) the money.

Called by the Stripe webhook and, for manual bank transfer, by the manager recording the
bank reference. Every function is idempotent and moves a payout's state only forward.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, Forbidden, InvalidInput
from agency.isf.ledger import post_entry, reverse_entry
from agency.isf.manual_gateway import MANUAL_BANK_TRANSFER
from agency.isf.models import EntryKind, Invoice, InvoiceStatus, Payout, PayoutStatus
from agency.isf.payouts import RESENDABLE, entry_by_key, ledger_accounts_of
from agency.unit_of_work import unit_of_work


def settle_payout(
    session: Session,
    payout: Payout,
    external_id: str | None,
    principal: Principal | None = None,
) -> bool:
    """Confirmed paid: clearing -> provider paid, invoice paid. Idempotent; not committed.

    ``principal`` None: the payment provider told us (a webhook). Audited either way.
    """
    if payout.status not in (*RESENDABLE, PayoutStatus.SENT):
        return False
    before = payout.status
    _, clearing, paid = ledger_accounts_of(session, payout)
    post_entry(
        session,
        EntryKind.PAYOUT_SETTLEMENT,
        [(clearing, -payout.amount_pence), (paid, payout.amount_pence)],
        f"Payout {payout.id} confirmed",
        f"payout-{payout.id}-{payout.attempt}-settle",
        agency_id=payout.agency_id,
        council_id=payout.council_id,
    )
    now = utcnow()
    payout.status = PayoutStatus.SETTLED
    payout.settled_at = now
    payout.external_id = external_id or payout.external_id
    payout.sent_at = payout.sent_at or now
    invoice = session.get(Invoice, payout.invoice_id)
    assert invoice is not None
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.days_to_paid = (now.date() - invoice.approved_at.date()).days
    record(
        session,
        principal,
        "payout.settled",
        payout,
        {"status": before.value},
        {
            "status": payout.status.value,
            "invoice_id": payout.invoice_id,
            "amount_pence": payout.amount_pence,
            "external_id": payout.external_id,
        },
    )
    return True


def reverse_payout(session: Session, payout: Payout, reason: str) -> bool:
    """The payment provider took the money back: undo settlement and payout; invoice unpaid."""
    if payout.status is PayoutStatus.REVERSED:
        return False
    if payout.status is not PayoutStatus.SETTLED:
        settle_payout(session, payout, None)  # a reversal can arrive before its creation event
    for key in (
        f"payout-{payout.id}-{payout.attempt}-settle",
        f"payout-{payout.id}-{payout.attempt}",
    ):
        entry = entry_by_key(session, key)
        assert entry is not None
        reverse_entry(session, entry.id, reason)
    payout.status = PayoutStatus.REVERSED
    invoice = session.get(Invoice, payout.invoice_id)
    assert invoice is not None
    invoice.status = InvoiceStatus.APPROVED
    invoice.paid_at = None
    invoice.days_to_paid = None
    record(
        session,
        None,
        "payout.reversed",
        payout,
        {"status": PayoutStatus.SETTLED.value},
        {"status": payout.status.value, "amount_pence": payout.amount_pence, "reason": reason},
    )
    return True


def record_bank_reference(
    session: Session, principal: Principal, payout_id: str, bank_reference: str
) -> Payout:
    """Manual bank transfer: the agency paid it through its bank; this settles the payout."""
    payout = load(session, principal, Payout, payout_id, Action.WRITE)
    if principal.kind is Kind.PROVIDER:
        raise Forbidden("Only the agency records bank payments.")
    if payout.gateway != MANUAL_BANK_TRANSFER:
        raise InvalidInput(errors={"bank_reference": ["Only for manual bank transfer payouts."]})
    if payout.status is PayoutStatus.SETTLED:
        if payout.external_id == bank_reference:
            return payout
        raise Conflict("This payout is already settled.", code="payout_settled")
    if payout.status is not PayoutStatus.SENT:
        raise Conflict("This payout is not awaiting a bank payment.", code="payout_not_sent")
    with unit_of_work(session) as uow:
        settle_payout(session, payout, bank_reference, principal)
        uow.commit()
    return payout
