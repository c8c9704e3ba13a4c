"""Many ledger entries in one go: :func:`post_entries`, the batch twin of ``post_entry``.

The same rules as :func:`agency.isf.ledger.post_entry` (balanced, non-zero int pence,
idempotent keys, accounts locked in id order, money-holding accounts never below their
floor, the written sums read back), checked once for the whole batch: a payment run posts
hundreds of payouts per transaction instead of paying a round trip per query per payout.
The balance check is on each account's net over the batch, which is what commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.ids import new_id
from agency.isf.ledger import (
    NON_NEGATIVE,
    InsufficientFunds,
    Line,
    UnbalancedEntry,
    WouldOverdraw,
    _check_lines,
    _overdraft_floors,
    locked_balances,
    post_entry,
)
from agency.isf.models import AccountKind, EntryKind, JournalEntry, LedgerAccount, Posting


@dataclass(frozen=True)
class Movement:
    lines: Sequence[Line]
    memo: str | None
    idempotency_key: str
    agency_id: str | None = None
    council_id: str | None = None


def post_entries(
    session: Session, kind: EntryKind, movements: Sequence[Movement], *, created_by: str = "system"
) -> dict[str, str]:
    """Write every movement as one entry (flushed, not committed); idempotency key -> entry id.

    A key already used is handed to ``post_entry`` one by one (same movement: the first
    entry; a different one: 409), so replays behave exactly as single posts do.
    """
    if not movements:
        return {}
    for movement in movements:
        _check_lines(movement.lines)
    keys = [m.idempotency_key for m in movements]
    if len(set(keys)) != len(keys):
        raise UnbalancedEntry("one idempotency key per movement in a batch")
    net: dict[str, int] = defaultdict(int)
    accounts: dict[str, LedgerAccount] = {}
    for movement in movements:
        for account, amount in movement.lines:
            net[account.id] += amount
            accounts[account.id] = account
    current = locked_balances(session, net)
    used = set(
        session.scalars(
            select(JournalEntry.idempotency_key).where(JournalEntry.idempotency_key.in_(keys))
        )
    )
    written: dict[str, str] = {}
    for movement in (m for m in movements if m.idempotency_key in used):
        entry = post_entry(
            session,
            kind,
            movement.lines,
            movement.memo,
            movement.idempotency_key,
            created_by=created_by,
            agency_id=movement.agency_id,
            council_id=movement.council_id,
        )
        written[movement.idempotency_key] = entry.id
    fresh = [m for m in movements if m.idempotency_key not in used]
    if not fresh:
        return written
    net = defaultdict(int)
    for movement in fresh:
        for account, amount in movement.lines:
            net[account.id] += amount
    # The replays above moved no money (a used key posts nothing new): ``current`` holds.
    _check_floors(session, accounts, current, net)
    now = utcnow()
    entries, postings = [], []
    for movement in fresh:
        entry_id = new_id("jen")
        written[movement.idempotency_key] = entry_id
        entries.append(
            {
                "id": entry_id,
                "kind": EntryKind(kind),
                "memo": movement.memo,
                "idempotency_key": movement.idempotency_key,
                "reverses_entry_id": None,
                "agency_id": movement.agency_id,
                "council_id": movement.council_id,
                "created_by": created_by,
                "created_at": now,
            }
        )
        postings.extend(
            {"id": new_id("pst"), "entry_id": entry_id, "account_id": a.id, "amount_pence": p}
            for a, p in movement.lines
        )
    session.execute(insert(JournalEntry), entries)
    session.execute(insert(Posting), postings)
    ids = [e["id"] for e in entries]
    unbalanced = session.execute(
        select(Posting.entry_id)
        .where(Posting.entry_id.in_(ids))
        .group_by(Posting.entry_id)
        .having(func.sum(Posting.amount_pence) != 0)
    ).first()
    if unbalanced is not None:
        raise UnbalancedEntry(f"entry {unbalanced[0]} was written unbalanced")
    return written


def _check_floors(
    session: Session,
    accounts: dict[str, LedgerAccount],
    current: dict[str, int],
    net: dict[str, int],
) -> None:
    decreasing = [a for a, amount in net.items() if amount < 0]
    floors = _overdraft_floors(session, [accounts[a] for a in decreasing])
    for account_id in decreasing:
        account = accounts[account_id]
        if account.kind in NON_NEGATIVE and current[account_id] + net[account_id] < floors.get(
            account_id, 0
        ):
            if account.kind is AccountKind.ISF:
                raise InsufficientFunds(
                    available_pence=current[account_id] - floors.get(account_id, 0),
                    requested_pence=-net[account_id],
                )
            raise WouldOverdraw(account=account.key)
