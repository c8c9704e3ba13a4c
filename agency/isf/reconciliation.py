"""Compare our ledger and payouts with the transfers the payment provider reports.

Differences are listed for a person to look at, never corrected automatically: money
that moved without our record (an uncertain payout) or a record without money.

Transfers and payouts are compared over a window, the last ``RECONCILE_WINDOW_DAYS`` (35)
by default, up to 366 on request (``POST /reconciliations?days=``), so a run costs the
recent weeks, not the agency's whole history:

- the gateway is asked only for the transfers made since the window's start less
  ``LISTING_MARGIN``; each is looked up among our payouts by its id (and by the payout id
  in its metadata), whatever the payout's age, so the transfer of a payout made before the
  window is still matched, not listed as ``transfer_not_recorded``;
- only payouts made in the window are checked for a ``transfer_missing``. Our payout row
  is written before Stripe is asked, so its transfer is made after it; Stripe dates it by
  its own clock in whole seconds, and the margin keeps a transfer dated a little before
  the window's start (clocks apart, truncation) in the listing. A payout made before the
  window is not checked for a missing transfer: ask for more days to look further back.

The ledger totals (clearing against payouts in flight, paid against settled) and the kept
balances stay whole-history sums in the database: money held is a running total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.config import RECONCILE_WINDOW_DAYS
from agency.db import utcnow
from agency.isf.gateway import PaymentGateway
from agency.isf.models import AccountKind, LedgerAccount, Payout, PayoutStatus, Posting

# How far before the window's start transfers are still listed: far more than two clocks
# disagree by (Stripe's ``created`` is its clock, in whole seconds; ``created_at`` is ours).
LISTING_MARGIN = dt.timedelta(hours=1)
_CHUNK = 500  # ids per IN (...) list


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


def _payouts_where(
    session: Session, agency_id: str, column: Any, values: Iterable[str]
) -> list[Payout]:
    """The agency's payouts whose ``column`` is one of ``values`` (in chunks of ids)."""
    wanted = sorted(set(values))
    found: list[Payout] = []
    for at in range(0, len(wanted), _CHUNK):
        found.extend(
            session.scalars(
                select(Payout).where(
                    Payout.agency_id == agency_id, column.in_(wanted[at : at + _CHUNK])
                )
            )
        )
    return found


def _payout_totals(session: Session, agency_id: str) -> tuple[int, int]:
    """(in flight, settled): the agency's payouts summed by status in the database."""
    in_flight = (PayoutStatus.PENDING, PayoutStatus.UNCERTAIN, PayoutStatus.SENT)
    rows = session.execute(
        select(Payout.status, func.sum(Payout.amount_pence))
        .where(Payout.agency_id == agency_id)
        .group_by(Payout.status)
    )
    by_status = {status: int(total or 0) for status, total in rows}
    return (
        sum(by_status.get(status, 0) for status in in_flight),
        by_status.get(PayoutStatus.SETTLED, 0),
    )


def reconcile(
    session: Session,
    agency_id: str,
    gateway: PaymentGateway,
    *,
    days: int = RECONCILE_WINDOW_DAYS,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Differences between the agency's payouts/ledger and the gateway's transfers of the
    last ``days`` days (see the module's docstring for the window's edges)."""
    until = now or utcnow()
    since = until - dt.timedelta(days=days)
    listed_from = since - LISTING_MARGIN
    theirs = [
        t
        for t in gateway.list_payments(created_from=listed_from)
        if (t.get("metadata") or {}).get("agency_id") == agency_id
    ]
    recorded = {
        p.external_id: p
        for p in _payouts_where(session, agency_id, Payout.external_id, (t["id"] for t in theirs))
    }
    claims = {
        (t.get("metadata") or {}).get("payout_id") or "" for t in theirs if t["id"] not in recorded
    }
    by_payout = {p.id: p for p in _payouts_where(session, agency_id, Payout.id, claims - {""})}
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
    payouts = session.scalars(
        select(Payout)
        .where(Payout.agency_id == agency_id, Payout.created_at >= since)
        .order_by(Payout.created_at, Payout.id)
    ).all()
    for payout in payouts:
        if (
            payout.external_id
            and payout.gateway == gateway.name
            and payout.status in (PayoutStatus.SENT, PayoutStatus.SETTLED)
            and payout.external_id not in seen
        ):
            differences.append(
                {
                    "kind": "transfer_missing",
                    "payout_id": payout.id,
                    "transfer_id": payout.external_id,
                }
            )
    in_flight, settled = _payout_totals(session, agency_id)
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
        "window": {
            "days": days,
            "from": since.isoformat(),
            "to": until.isoformat(),
            "transfers_listed_from": listed_from.isoformat(),
        },
    }
