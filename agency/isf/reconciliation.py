"""Compare our ledger and payouts with the transfers the payment provider reports.

Differences are listed for a person to look at, never corrected automatically: money
that moved without our record (an uncertain payout) or a record without money.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.isf.gateway import PaymentGateway
from agency.isf.models import AccountKind, LedgerAccount, Payout, PayoutStatus, Posting


def _held(session: Session, kind: AccountKind, agency_id: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Posting.amount_pence), 0))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(LedgerAccount.kind == kind, LedgerAccount.agency_id == agency_id)
        )
        or 0
    )


def _kept_balances_differ(session: Session, agency_id: str) -> list[dict[str, Any]]:
    """The agency's accounts whose kept balance is not the sum of their postings.

    The database keeps ``balance_pence`` by a trigger; this re-adds the postings, the
    independent check a person can act on (it should never find one).
    """
    summed = (
        select(Posting.account_id, func.sum(Posting.amount_pence).label("total"))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.agency_id == agency_id)
        .group_by(Posting.account_id)
        .subquery()
    )
    total = func.coalesce(summed.c.total, 0)
    rows = session.execute(
        select(LedgerAccount.key, LedgerAccount.balance_pence, total)
        .outerjoin(summed, summed.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.agency_id == agency_id, LedgerAccount.balance_pence != total)
        .order_by(LedgerAccount.key)
    )
    return [
        {
            "kind": "balance_differs",
            "account": key,
            "kept_pence": int(kept),
            "postings_pence": int(posted),  # SUM of bigint is numeric on PostgreSQL
        }
        for key, kept, posted in rows
    ]


def reconcile(session: Session, agency_id: str, gateway: PaymentGateway) -> dict[str, Any]:
    """Differences between the agency's payouts/ledger and the gateway's transfers."""
    payouts = session.scalars(select(Payout).where(Payout.agency_id == agency_id)).all()
    by_payout = {p.id: p for p in payouts}
    recorded = {p.external_id: p for p in payouts if p.external_id}
    theirs = [
        t
        for t in gateway.list_payments()
        if (t.get("metadata") or {}).get("agency_id") == agency_id
    ]
    seen: set[str] = set()
    differences: list[dict[str, Any]] = []
    for transfer in theirs:
        seen.add(transfer["id"])
        payout = recorded.get(transfer["id"])
        if payout is None:
            claimed = by_payout.get((transfer.get("metadata") or {}).get("payout_id", ""))
            differences.append(
                {
                    "kind": "transfer_not_recorded",
                    "transfer_id": transfer["id"],
                    "payout_id": claimed.id if claimed else None,
                    "payout_status": claimed.status.value if claimed else None,
                    "amount_pence": transfer["amount"],
                }
            )
        elif transfer["amount"] != payout.amount_pence:
            differences.append(
                {
                    "kind": "amount_differs",
                    "transfer_id": transfer["id"],
                    "payout_id": payout.id,
                    "ours_pence": payout.amount_pence,
                    "theirs_pence": transfer["amount"],
                }
            )
    for external_id, payout in recorded.items():
        if (
            payout.gateway == gateway.name
            and payout.status
            in (
                PayoutStatus.SENT,
                PayoutStatus.SETTLED,
            )
            and external_id not in seen
        ):
            differences.append(
                {"kind": "transfer_missing", "payout_id": payout.id, "transfer_id": external_id}
            )
    in_flight = sum(
        p.amount_pence
        for p in payouts
        if p.status in (PayoutStatus.PENDING, PayoutStatus.UNCERTAIN, PayoutStatus.SENT)
    )
    settled = sum(p.amount_pence for p in payouts if p.status is PayoutStatus.SETTLED)
    ledger = {
        "clearing_pence": _held(session, AccountKind.CLEARING, agency_id),
        "provider_paid_pence": _held(session, AccountKind.PROVIDER_PAID, agency_id),
    }
    if ledger["clearing_pence"] != in_flight or ledger["provider_paid_pence"] != settled:
        differences.append(
            {
                "kind": "ledger_differs",
                **ledger,
                "in_flight_pence": in_flight,
                "settled_pence": settled,
            }
        )
    differences.extend(_kept_balances_differ(session, agency_id))
    return {
        "agency_id": agency_id,
        "transfers": len(theirs),
        "payouts": len(payouts),
        "differences": differences,
    }
