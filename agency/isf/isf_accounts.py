"""ISF accounts: open one for a care seeker, list them with their figures, read a statement.

Money moved in and out by hand (allocations, returns, reversals) is ``agency.isf.funding``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record
from agency.directory.models import Agency
from agency.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.arrangement_funding import link_isf_account
from agency.isf.ledger import ledger_account
from agency.isf.models import (
    AccountKind,
    EntryKind,
    Invoice,
    InvoiceStatus,
    IsfAccount,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from agency.seekers.models import CareSeeker
from agency.unit_of_work import unit_of_work


class IsfAccountClosed(Conflict):
    code = "isf_account_closed"
    message = "The ISF account is closed."


@dataclass(frozen=True)
class IsfFigures:
    """What the register shows per ISF account, all derived from postings and invoices."""

    allocated_pence: int = 0
    spent_pence: int = 0
    committed_pence: int = 0
    returned_pence: int = 0
    balance_pence: int = 0


def isf_ledger_account(session: Session, isf: IsfAccount) -> LedgerAccount:
    return ledger_account(
        session,
        AccountKind.ISF,
        isf_account_id=isf.id,
        agency_id=isf.agency_id,
        council_id=isf.council_id,
    )


def open_isf_account(
    session: Session,
    principal: Principal,
    *,
    seeker_id: str,
    council_reference: str,
    plan_start: dt.date,
    plan_end: dt.date,
    agency_id: str | None = None,
) -> IsfAccount:
    """Open the ISF account a manager's agency holds for a seeker it serves."""
    if plan_end < plan_start:
        raise InvalidInput(errors={"plan_end": ["The plan cannot end before it starts."]})
    if principal.kind is Kind.MANAGER:
        if agency_id not in (None, principal.agency_id):
            raise Forbidden("Managers open ISF accounts for their own agency.")
        agency_id = principal.agency_id
    if agency_id is None:
        raise InvalidInput(errors={"agency_id": ["Required for an admin."]})
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise InvalidInput(errors={"agency_id": ["No such agency."]})
    load(session, principal, CareSeeker, seeker_id, Action.READ)
    exists = session.scalar(
        select(IsfAccount.id).where(
            IsfAccount.seeker_id == seeker_id, IsfAccount.agency_id == agency_id
        )
    )
    if exists:
        raise Conflict(
            "This seeker already has an ISF account with this agency.",
            code="isf_account_exists",
            isf_account_id=exists,
        )
    with unit_of_work(session) as uow:
        isf = IsfAccount(
            id=new_id("isf"),
            seeker_id=seeker_id,
            agency_id=agency_id,
            council_id=agency.council_id,
            council_reference=council_reference,
            plan_start=plan_start,
            plan_end=plan_end,
            created_by=principal.id,
        )
        session.add(isf)
        session.flush()
        isf_ledger_account(session, isf)
        record(
            session,
            principal,
            "isf_account.opened",
            isf,
            None,
            {
                "seeker_id": seeker_id,
                "council_reference": council_reference,
                "plan_start": plan_start,
                "plan_end": plan_end,
            },
        )

        link_isf_account(session, principal, isf)  # arrangements confirmed before it existed
        uow.commit()
    return isf


def isf_accounts_visible_to(principal: Principal) -> Select[tuple[IsfAccount]]:
    # ISF accounts carry no partner or provider column: only staff and auditors list them.
    return select(IsfAccount).where(visible_to(IsfAccount, principal))


def figures_for(session: Session, isf_ids: list[str]) -> dict[str, IsfFigures]:
    """Allocated, spent, committed, returned and balance for many ISF accounts in two queries.

    A reversal counts against the kind of movement it reverses (a reversed allocation
    lowers "allocated").
    """
    if not isf_ids:
        return {}
    original = aliased(JournalEntry)
    kind = func.coalesce(original.kind, JournalEntry.kind)
    rows = session.execute(
        select(LedgerAccount.isf_account_id, kind, func.sum(Posting.amount_pence))
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(original, original.id == JournalEntry.reverses_entry_id)
        .where(LedgerAccount.kind == AccountKind.ISF, LedgerAccount.isf_account_id.in_(isf_ids))
        .group_by(LedgerAccount.isf_account_id, kind)
    )
    sums: dict[str, dict[str, int]] = {i: {} for i in isf_ids}
    for isf_id, entry_kind, total in rows:
        sums[isf_id][str(entry_kind)] = int(total)
    committed = dict(
        session.execute(
            select(Invoice.isf_account_id, func.sum(Invoice.total_pence))
            .where(Invoice.isf_account_id.in_(isf_ids), Invoice.status == InvoiceStatus.APPROVED)
            .group_by(Invoice.isf_account_id)
        ).all()
    )
    return {
        i: IsfFigures(
            allocated_pence=s.get(EntryKind.ALLOCATION.value, 0),
            spent_pence=-s.get(EntryKind.INVOICE.value, 0),
            committed_pence=int(committed.get(i) or 0),
            returned_pence=-s.get(EntryKind.RETURN.value, 0),
            balance_pence=sum(s.values()),
        )
        for i, s in sums.items()
    }


def get_isf_account(session: Session, principal: Principal, isf_account_id: str) -> IsfAccount:
    isf = load(session, principal, IsfAccount, isf_account_id, Action.READ)
    if isf is None:  # pragma: no cover - load raises
        raise NotFound()
    return isf


def statement(session: Session, principal: Principal, isf_account_id: str) -> list[dict]:  # type: ignore[type-arg]
    """Every posting on the ISF, oldest first, with its entry's kind and memo."""
    isf = load(session, principal, IsfAccount, isf_account_id, Action.READ)
    rows = session.execute(
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.memo,
            Posting.amount_pence,
            JournalEntry.created_at,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.kind == AccountKind.ISF, LedgerAccount.isf_account_id == isf.id)
        .order_by(JournalEntry.created_at, JournalEntry.id)
    )
    return [
        {"entry_id": e, "kind": k, "memo": m, "amount_pence": a, "created_at": c}
        for e, k, m, a, c in rows
    ]
