"""The council's ISF register: every ISF account with its figures, statements, and the
ISF approved provider register with what each provider was paid from ISFs.

Read straight from the ledger (figures_for) and the invoices, never from a copy; the CSV
exports stream in batches and end with totals that reconcile to the ledger to the penny.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from agency.access import Kind, Principal, visible_to
from agency.csv_format import pounds
from agency.directory.models import Agency, Council
from agency.isf import isf_accounts
from agency.isf.models import Invoice, InvoiceStatus, IsfAccount
from agency.privacy import pseudonym
from agency.providers.models import IsfApproval, Provider, ProviderListing

BATCH = 500
REGISTER_HEADER = [
    "seeker",
    "agency",
    "council_reference",
    "plan_start",
    "plan_end",
    "status",
    "allocated",
    "spent",
    "committed",
    "returned",
    "balance",
]
FIGURES = ("allocated_pence", "spent_pence", "committed_pence", "returned_pence", "balance_pence")


def register_rows(session: Session, principal: Principal, secret_key: str) -> Iterator[list[Any]]:
    """CSV rows of the register, batch by batch, then a total row per figure."""
    agencies = dict(session.execute(select(Agency.id, Agency.name)).all())
    stmt = isf_accounts.isf_accounts_visible_to(principal).order_by(IsfAccount.id)
    totals = dict.fromkeys(FIGURES, 0)
    yield REGISTER_HEADER
    last_id = ""
    while True:
        batch = list(session.scalars(stmt.where(IsfAccount.id > last_id).limit(BATCH)))
        if not batch:
            break
        figures = isf_accounts.figures_for(session, [isf.id for isf in batch])
        for isf in batch:
            numbers = figures[isf.id]
            seeker = (
                pseudonym(secret_key, isf.seeker_id)
                if principal.kind is Kind.AUDITOR
                else isf.seeker_id
            )
            yield [
                seeker,
                agencies.get(isf.agency_id, isf.agency_id),
                isf.council_reference,
                isf.plan_start,
                isf.plan_end,
                isf.status.value,
                *(pounds(getattr(numbers, name)) for name in FIGURES),
            ]
            for name in FIGURES:
                totals[name] += getattr(numbers, name)
        last_id = batch[-1].id
    yield ["total", "", "", "", "", "", *(pounds(totals[name]) for name in FIGURES)]


def statement_rows(session: Session, principal: Principal, isf_account_id: str) -> list[list[Any]]:
    """One ISF's statement: every posting with a running balance, and the closing balance."""
    lines = isf_accounts.statement(session, principal, isf_account_id)
    rows: list[list[Any]] = [["date", "entry", "kind", "memo", "amount", "balance"]]
    balance = 0
    for line in lines:
        balance += line["amount_pence"]
        kind = getattr(line["kind"], "value", line["kind"])
        rows.append(
            [
                line["created_at"].date().isoformat(),
                line["entry_id"],
                kind,
                line["memo"],
                pounds(line["amount_pence"]),
                pounds(balance),
            ]
        )
    rows.append(["closing balance", "", "", "", "", pounds(balance)])
    return rows


def approved_providers(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The ISF approved provider register of the principal's council, with ISF money paid.

    An auditor sees its council's register; a manager the providers listed with its agency
    (the council's decision on each, and what its ISFs paid them).
    """
    council_id = principal.council_id
    if principal.kind is Kind.MANAGER:  # the council of the manager's agency
        council_id = session.scalar(select(Council.id).where(visible_to(Council, principal)))
    paid = (
        select(
            Invoice.provider_id,
            func.sum(Invoice.total_pence).label("invoiced"),
            func.sum(Invoice.total_pence)
            .filter(Invoice.status == InvoiceStatus.PAID)
            .label("paid"),
        )
        .where(Invoice.isf_account_id.is_not(None), Invoice.council_id == council_id)
        .group_by(Invoice.provider_id)
        .subquery()
    )
    if principal.kind is Kind.MANAGER:
        listed = select(ProviderListing.provider_id).where(visible_to(ProviderListing, principal))
        condition = Provider.id.in_(listed)
    else:
        approved_here = select(IsfApproval.provider_id).where(IsfApproval.council_id == council_id)
        condition = or_(Provider.id.in_(approved_here), Provider.id.in_(select(paid.c.provider_id)))
    rows = session.execute(
        select(Provider, IsfApproval, paid.c.invoiced, paid.c.paid)
        .outerjoin(
            IsfApproval,
            (IsfApproval.provider_id == Provider.id) & (IsfApproval.council_id == council_id),
        )
        .outerjoin(paid, paid.c.provider_id == Provider.id)
        .where(condition)
        .order_by(Provider.trading_name, Provider.id)
    )
    return [
        {
            "provider_id": provider.id,
            "trading_name": provider.trading_name,
            "council_id": council_id,
            "isf_status": "none"
            if approval is None
            else ("approved" if approval.approved else "revoked"),
            "reason": approval.reason if approval else None,
            "recorded_at": approval.updated_at if approval else None,
            "locality": provider.locality.value,
            "size": provider.size.value,
            "sector": provider.sector.value,
            "isf_invoiced_pence": int(invoiced or 0),
            "isf_paid_pence": int(paid_total or 0),
        }
        for provider, approval, invoiced, paid_total in rows
    ]
