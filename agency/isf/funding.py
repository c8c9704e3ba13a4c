"""Money moved in and out of an ISF by hand: the council's allocations, unspent funds
returned (and closing the account), and a manager's reversal of either."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from agency.access import Action, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, InvalidInput
from agency.ids import new_id
from agency.isf.isf_accounts import IsfAccountClosed, figures_for, isf_ledger_account
from agency.isf.ledger import ledger_account, post_entry, reverse_entry
from agency.isf.models import (
    AccountKind,
    EntryKind,
    IsfAccount,
    IsfStatus,
    JournalEntry,
)
from agency.isf.payouts import entry_by_key
from agency.unit_of_work import unit_of_work


def allocate(
    session: Session,
    principal: Principal,
    isf_account_id: str,
    *,
    amount_pence: int,
    period_start: dt.date,
    period_end: dt.date,
    memo: str | None = None,
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Move council funding into the ISF for a period (e.g. a four-weekly budget)."""
    if period_end < period_start:
        raise InvalidInput(errors={"period_end": ["The period cannot end before it starts."]})
    isf = load(session, principal, IsfAccount, isf_account_id, Action.WRITE)
    if isf.status is IsfStatus.CLOSED:
        raise IsfAccountClosed()
    with unit_of_work(session) as uow:
        funding = ledger_account(session, AccountKind.COUNCIL_FUNDING, council_id=isf.council_id)
        # A client's key is scoped to the ISF's agency (the caller's tenant): one agency cannot
        # learn from a 409 whether another used a key, nor claim keys in advance.
        key = (
            f"allocation:{isf.agency_id}:{idempotency_key}"
            if idempotency_key
            else f"allocation-{new_id('key')}"
        )
        replay = entry_by_key(session, key) is not None
        entry = post_entry(
            session,
            EntryKind.ALLOCATION,
            [(funding, -amount_pence), (isf_ledger_account(session, isf), amount_pence)],
            f"{period_start.isoformat()}..{period_end.isoformat()}" + (f": {memo}" if memo else ""),
            key,
            created_by=principal.id,
            agency_id=isf.agency_id,
            council_id=isf.council_id,
        )
        if not replay:
            allocated = "isf_account.allocated"
            _audit_money(session, principal, allocated, isf, entry, amount_pence, memo)
        uow.commit()
    return entry


def _audit_money(
    session: Session,
    principal: Principal,
    action: str,
    isf: IsfAccount,
    entry: JournalEntry,
    amount_pence: int,
    memo: str | None,
) -> None:
    """One audit entry per money movement on an ISF, next to the journal entry it made."""
    record(
        session,
        principal,
        action,
        isf,
        None,
        {
            "entry_id": entry.id,
            "kind": entry.kind.value,
            "amount_pence": amount_pence,
            "memo": memo,
        },
    )


def return_unspent(
    session: Session,
    principal: Principal,
    isf_account_id: str,
    *,
    amount_pence: int | None = None,
    close: bool = False,
    memo: str | None = None,
    today: dt.date | None = None,
) -> JournalEntry | None:
    """Give unspent funds back to the council at the plan's end or on closure (then close)."""
    isf = load(session, principal, IsfAccount, isf_account_id, Action.WRITE)
    today = today or dt.date.today()
    if not close and today < isf.plan_end:
        raise Conflict(
            "Unspent funds go back at the end of the plan period or when the account closes.",
            code="plan_not_ended",
        )
    with unit_of_work(session) as uow:
        account = isf_ledger_account(session, isf)
        figures = figures_for(session, [isf.id])[isf.id]
        if close and figures.committed_pence:
            raise Conflict(
                "Approved invoices are still waiting to be paid from this ISF.",
                code="invoices_outstanding",
            )
        amount = figures.balance_pence if amount_pence is None else amount_pence
        if close and figures.balance_pence - amount:
            raise Conflict("Return the whole balance to close.", code="balance_remaining")
        entry = None
        if amount:
            council_id = isf.council_id
            returns = ledger_account(session, AccountKind.COUNCIL_RETURNS, council_id=council_id)
            entry = post_entry(
                session,
                EntryKind.RETURN,
                [(account, -amount), (returns, amount)],
                memo or ("Closure" if close else "End of plan period"),
                f"return-{new_id('key')}",
                created_by=principal.id,
                agency_id=isf.agency_id,
                council_id=isf.council_id,
            )
            _audit_money(session, principal, "isf_account.returned", isf, entry, amount, memo)
        if close:
            isf.status = IsfStatus.CLOSED
            isf.closed_at = utcnow()
            closed = {"status": "closed"}
            record(session, principal, "isf_account.closed", isf, {"status": "open"}, closed)
        uow.commit()
    return entry


def reverse(
    session: Session, principal: Principal, entry_id: str, memo: str | None
) -> JournalEntry:
    """A manager corrects an allocation or return of their agency by reversing it."""

    entry = load(session, principal, JournalEntry, entry_id, Action.WRITE)
    if entry.kind not in (EntryKind.ALLOCATION, EntryKind.RETURN):
        raise Conflict(
            "Only allocations and returns are corrected by hand; payments follow the gateway.",
            code="not_reversible",
        )
    reversal = reverse_entry(session, entry.id, memo, created_by=principal.id)
    with unit_of_work(session) as uow:
        record(
            session,
            principal,
            "journal_entry.reversed",
            entry,
            None,
            {"reversal_id": reversal.id, "kind": entry.kind.value, "memo": memo},
        )
        uow.commit()
    return reversal
