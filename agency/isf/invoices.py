"""Approving an invoice commits the person's money: ISF -> the provider's payable.

The timesheet side builds invoices; it calls :func:`approve_invoice` (or, for an
invoice it stores itself, :func:`charge_invoice`) and never touches the ledger.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy.orm import Session

from agency.access import Action, Principal, load
from agency.db import utcnow
from agency.errors import Conflict, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.isf.isf_accounts import IsfAccountClosed, isf_ledger_account
from agency.isf.ledger import ledger_account, post_entry
from agency.isf.models import (
    AccountKind,
    EntryKind,
    Invoice,
    InvoiceStatus,
    IsfAccount,
    IsfStatus,
    JournalEntry,
)
from agency.unit_of_work import unit_of_work


def charge_invoice(
    session: Session,
    isf_account_id: str,
    provider_id: str,
    amount_pence: int,
    invoice_id: str,
    *,
    created_by: str = "system",
) -> JournalEntry:
    """ISF -> provider payable for one invoice, inside the caller's transaction (not committed).

    Idempotent on the invoice id; 409 ``insufficient_funds`` when the ISF would go below
    zero, 409 ``isf_account_closed`` for a closed ISF.
    """
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise InvalidInput(errors={"amount_pence": ["Must be a positive whole number of pence."]})
    isf = session.get(IsfAccount, isf_account_id)
    if isf is None:
        raise NotFound(f"No ISF account with id {isf_account_id}.")
    if isf.status is IsfStatus.CLOSED:
        raise IsfAccountClosed()
    payable = ledger_account(
        session,
        AccountKind.PROVIDER_PAYABLE,
        provider_id=provider_id,
        agency_id=isf.agency_id,
        council_id=isf.council_id,
    )
    return post_entry(
        session,
        EntryKind.INVOICE,
        [(isf_ledger_account(session, isf), -amount_pence), (payable, amount_pence)],
        f"Invoice {invoice_id}",
        f"invoice-{invoice_id}-charge",
        created_by=created_by,
        agency_id=isf.agency_id,
        council_id=isf.council_id,
    )


def approve_invoice(
    session: Session,
    principal: Principal,
    *,
    arrangement_id: str,
    period_start: dt.date,
    period_end: dt.date,
    lines: list[dict[str, Any]],
    total_pence: int,
    invoice_id: str | None = None,
    number: str | None = None,
    provider_id: str | None = None,
) -> Invoice:
    """Record an approved invoice for an arrangement; an ISF-funded one is charged to the ISF.

    ``provider_id`` is whom it pays when that is not the arrangement's provider (a cover
    provider's timesheet, agency.visits.cover): their payable is credited from the same ISF.
    Idempotent when the caller passes its own ``invoice_id``: approving it again returns it.
    """
    with unit_of_work(session) as uow:
        if invoice_id is not None:
            earlier = session.get(Invoice, invoice_id)
            if earlier is not None:
                uow.commit()  # the caller's own changes still commit with "approval", as always
                return earlier
        if not isinstance(total_pence, int) or total_pence <= 0:
            raise InvalidInput(
                errors={"total_pence": ["Must be a positive whole number of pence."]}
            )
        arrangement = load(session, principal, Arrangement, arrangement_id, Action.WRITE)
        if arrangement.funding == "isf" and not arrangement.isf_account_id:
            raise Conflict("This ISF arrangement has no ISF account.", code="no_isf_account")
        invoice = Invoice(
            id=invoice_id or new_id("inv"),
            number=number or f"INV-{dt.date.today():%Y%m}-{secrets.token_hex(4).upper()}",
            arrangement_id=arrangement.id,
            provider_id=provider_id or arrangement.provider_id,
            agency_id=arrangement.agency_id,
            council_id=arrangement.council_id,
            isf_account_id=arrangement.isf_account_id if arrangement.funding == "isf" else None,
            funding=arrangement.funding,
            period_start=period_start,
            period_end=period_end,
            lines=lines,
            total_pence=total_pence,
            status=InvoiceStatus.APPROVED,
            approved_at=utcnow(),
        )
        session.add(invoice)
        session.flush()
        if invoice.isf_account_id:
            charge_invoice(
                session,
                invoice.isf_account_id,
                invoice.provider_id,
                total_pence,
                invoice.id,
                created_by=principal.id,
            )
        uow.commit()
    return invoice
