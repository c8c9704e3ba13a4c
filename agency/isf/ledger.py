"""The double-entry ledger: :func:`post_entry` is the only writer of money.

Entries are append-only: this module has no update or delete path, corrections are
:func:`reverse_entry` (a new entry with every posting negated), and on PostgreSQL the
migration installs triggers that refuse UPDATE/DELETE on postings and journal entries
and a deferred trigger that refuses to commit an entry whose postings do not sum to
zero. An account's balance is ``SUM(amount_pence)`` over its postings; the database keeps
that sum in ``ledger_accounts.balance_pence`` as postings are inserted (a trigger, in
the inserting transaction), so reading a balance costs the same at the ten-thousandth
payout as at the first. ``tests/isf/test_ledger_properties.py`` checks the kept sum
against the postings after every generated history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.errors import Conflict
from agency.ids import new_id
from agency.isf.models import (
    AccountKind,
    EntryKind,
    IsfAccount,
    JournalEntry,
    LedgerAccount,
    Posting,
)

# Accounts that hold real money on someone's behalf: never overdrawn, except an ISF down to
# the overdraft its council's auditor approved (IsfAccount.overdraft_limit_pence, default 0).
NON_NEGATIVE = frozenset(
    {
        AccountKind.ISF,
        AccountKind.PROVIDER_PAYABLE,
        AccountKind.CLEARING,
        AccountKind.PROVIDER_PAID,
    }
)

Line = tuple[LedgerAccount, int]


class UnbalancedEntry(ValueError):
    """A programming error: postings that do not sum to zero, or a zero/non-int amount."""


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    message = "The ISF account does not hold enough money for this."


class WouldOverdraw(Conflict):
    code = "would_overdraw"
    message = "This would take a ledger account below zero."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This idempotency key was already used for a different movement."


class EntryAlreadyReversed(Conflict):
    code = "entry_already_reversed"
    message = "This entry has already been reversed."


# --- accounts ---------------------------------------------------------------------------------


def ledger_account(
    session: Session,
    kind: AccountKind,
    *,
    council_id: str | None = None,
    agency_id: str | None = None,
    provider_id: str | None = None,
    isf_account_id: str | None = None,
) -> LedgerAccount:
    """The one ledger account of that kind for that owner, created on first use."""
    owner = {
        AccountKind.COUNCIL_FUNDING: (council_id,),
        AccountKind.COUNCIL_RETURNS: (council_id,),
        AccountKind.ISF: (isf_account_id,),
        AccountKind.CLEARING: (agency_id,),
        AccountKind.PROVIDER_PAYABLE: (provider_id, agency_id),
        AccountKind.PROVIDER_PAID: (provider_id, agency_id),
    }[kind]
    if not all(owner):
        raise ValueError(f"{kind.value} account needs {owner}")
    key = ":".join((kind.value, *owner))  # type: ignore[arg-type]
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if found is not None:
        return found
    values = {
        "id": new_id("lac"),
        "key": key,
        "kind": kind.value,
        "council_id": council_id,
        "agency_id": agency_id,
        "provider_id": provider_id,
        "isf_account_id": isf_account_id,
    }
    # INSERT .. ON CONFLICT DO NOTHING: two transactions creating it at once both succeed.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(LedgerAccount).values(**values).on_conflict_do_nothing())
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    assert found is not None
    return found


# --- balances ---------------------------------------------------------------------------------


def balance(session: Session, account_id: str) -> int:
    """The account's balance: the sum of its postings (in pence, signed as in models)."""
    return balances(session, [account_id])[account_id]


def balances(session: Session, account_ids: Iterable[str]) -> dict[str, int]:
    """Each account's balance as the database keeps it (0 for an id it does not know)."""
    ids = list(account_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_pence).where(LedgerAccount.id.in_(ids))
    )
    found = {account_id: int(total) for account_id, total in rows}
    return {account_id: found.get(account_id, 0) for account_id in ids}


def locked_balances(session: Session, account_ids: Iterable[str]) -> dict[str, int]:
    """Lock the accounts (in id order: no deadlocks) and read their balances, in one query.

    Held until the transaction ends, so two charges against one ISF cannot both pass a
    check made on what this returns. SQLite ignores FOR UPDATE: it has one writer anyway.
    """
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_pence)
        .where(LedgerAccount.id.in_(sorted(set(account_ids))))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )
    return {account_id: int(total) for account_id, total in rows}


# --- the one writer ---------------------------------------------------------------------------


def _check_lines(lines: Sequence[Line]) -> None:
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    for _, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise UnbalancedEntry(f"posting amounts are non-zero int pence, got {amount!r}")
    if sum(amount for _, amount in lines) != 0:
        raise UnbalancedEntry("postings must sum to zero")


def _same_movement(entry_postings: Iterable[Posting], lines: Sequence[Line]) -> bool:
    existing = sorted((p.account_id, p.amount_pence) for p in entry_postings)
    return existing == sorted((a.id, amount) for a, amount in lines)


def _overdraft_floors(session: Session, accounts: Sequence[LedgerAccount]) -> dict[str, int]:
    """How far below zero each ISF ledger account may go: minus its approved overdraft."""
    isf_ids = {a.isf_account_id: a.id for a in accounts if a.kind is AccountKind.ISF}
    if not isf_ids:
        return {}
    limits = session.execute(
        select(IsfAccount.id, IsfAccount.overdraft_limit_pence).where(IsfAccount.id.in_(isf_ids))
    )
    return {isf_ids[isf_id]: -int(limit or 0) for isf_id, limit in limits}


def post_entry(
    session: Session,
    kind: EntryKind,
    lines: Sequence[Line],
    memo: str | None,
    idempotency_key: str,
    *,
    created_by: str = "system",
    agency_id: str | None = None,
    council_id: str | None = None,
    reverses_entry_id: str | None = None,
) -> JournalEntry:
    """Write one balanced entry (flushed, not committed: the caller's transaction owns it).

    Idempotent on ``idempotency_key``: the same movement again returns the first entry;
    a different movement under the same key is refused. Accounts of kinds that hold
    money for someone (ISF, payable, clearing, paid) are locked and may not go below zero.
    """
    _check_lines(lines)
    net: dict[str, int] = defaultdict(int)
    accounts = {}
    for account, amount in lines:
        net[account.id] += amount
        accounts[account.id] = account
    current = locked_balances(session, net)
    existing = session.scalar(
        select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key)
    )
    if existing is not None:
        postings = session.scalars(select(Posting).where(Posting.entry_id == existing.id))
        if existing.kind is EntryKind(kind) and _same_movement(postings, lines):
            return existing
        raise IdempotencyKeyReused()
    decreasing = [a for a, amount in net.items() if amount < 0]
    floors = _overdraft_floors(session, [accounts[a] for a in decreasing])
    for account_id in decreasing:
        account = accounts[account_id]
        floor = floors.get(account_id, 0)
        if account.kind in NON_NEGATIVE and current[account_id] + net[account_id] < floor:
            if account.kind is AccountKind.ISF:
                raise InsufficientFunds(
                    available_pence=current[account_id] - floor,
                    requested_pence=-net[account_id],
                )
            raise WouldOverdraw(account=account.key)
    entry = JournalEntry(
        id=new_id("jen"),
        kind=EntryKind(kind),
        memo=memo,
        idempotency_key=idempotency_key,
        reverses_entry_id=reverses_entry_id,
        agency_id=agency_id,
        council_id=council_id,
        created_by=created_by,
    )
    session.add(entry)
    session.flush()
    session.add_all(
        Posting(id=new_id("pst"), entry_id=entry.id, account_id=account.id, amount_pence=amount)
        for account, amount in lines
    )
    session.flush()
    # The insert-time check, read back from the database rather than trusted from memory.
    written = session.scalar(
        select(func.sum(Posting.amount_pence)).where(Posting.entry_id == entry.id)
    )
    if written != 0:
        raise UnbalancedEntry(f"entry {entry.id} was written unbalanced ({written})")
    return entry


def reverse_entry(
    session: Session,
    entry_id: str,
    memo: str | None,
    *,
    created_by: str = "system",
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Correct an entry with its exact opposite (the original stays, marked by the reversal)."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        from agency.errors import NotFound

        raise NotFound(f"No journal entry with id {entry_id}.")
    key = idempotency_key or f"reversal-{entry_id}"
    earlier = session.scalar(select(JournalEntry).where(JournalEntry.reverses_entry_id == entry_id))
    if earlier is not None:
        if earlier.idempotency_key == key:
            return earlier
        raise EntryAlreadyReversed()
    if original.kind is EntryKind.REVERSAL:
        raise Conflict("A reversal cannot itself be reversed.", code="reversal_of_reversal")
    postings = session.scalars(select(Posting).where(Posting.entry_id == entry_id)).all()
    accounts = {
        a.id: a
        for a in session.scalars(
            select(LedgerAccount).where(LedgerAccount.id.in_({p.account_id for p in postings}))
        )
    }
    lines = [(accounts[p.account_id], -p.amount_pence) for p in postings]
    return post_entry(
        session,
        EntryKind.REVERSAL,
        lines,
        memo or f"Reversal of {entry_id}",
        key,
        created_by=created_by,
        agency_id=original.agency_id,
        council_id=original.council_id,
        reverses_entry_id=entry_id,
    )
