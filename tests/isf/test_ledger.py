"""The ledger's rules: balanced entries, idempotency, no overdrawn ISF, reversals, append-only."""

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from agency.isf.invoices import charge_invoice
from agency.isf.isf_accounts import figures_for, isf_ledger_account
from agency.isf.ledger import (
    EntryAlreadyReversed,
    IdempotencyKeyReused,
    InsufficientFunds,
    UnbalancedEntry,
    balance,
    ledger_account,
    post_entry,
    reverse_entry,
)
from agency.isf.ledger_batch import Movement, post_entries
from agency.isf.models import AccountKind, EntryKind, JournalEntry, Posting
from tests.factories import make_provider
from tests.isf.money_factories import fund, make_isf_account


def _funding(session, isf):
    return ledger_account(session, AccountKind.COUNCIL_FUNDING, council_id=isf.council_id)


def test_an_entry_whose_postings_do_not_sum_to_zero_is_refused(session):
    isf = make_isf_account(session)
    with pytest.raises(UnbalancedEntry):
        post_entry(
            session,
            EntryKind.ALLOCATION,
            [(_funding(session, isf), -100), (isf_ledger_account(session, isf), 99)],
            None,
            "k1",
        )


@pytest.mark.parametrize("amount", [0, 1.5, True, "100"])
def test_amounts_are_non_zero_int_pence(session, amount):
    isf = make_isf_account(session)
    with pytest.raises(UnbalancedEntry):
        post_entry(
            session,
            EntryKind.ALLOCATION,
            [(_funding(session, isf), amount), (isf_ledger_account(session, isf), amount)],
            None,
            "k1",
        )


def test_the_same_key_returns_the_first_entry_and_a_different_movement_is_refused(session):
    isf = make_isf_account(session)
    lines = [(_funding(session, isf), -500), (isf_ledger_account(session, isf), 500)]
    first = post_entry(session, EntryKind.ALLOCATION, lines, None, "alloc-1")
    again = post_entry(session, EntryKind.ALLOCATION, lines, None, "alloc-1")
    assert again.id == first.id
    with pytest.raises(IdempotencyKeyReused):
        post_entry(
            session,
            EntryKind.ALLOCATION,
            [(_funding(session, isf), -600), (isf_ledger_account(session, isf), 600)],
            None,
            "alloc-1",
        )
    session.commit()
    assert balance(session, isf_ledger_account(session, isf).id) == 500


def test_charging_more_than_the_isf_holds_is_refused_with_insufficient_funds(session):
    isf = make_isf_account(session)
    provider = make_provider(session)
    fund(session, isf, 1000)
    with pytest.raises(InsufficientFunds) as refused:
        charge_invoice(session, isf.id, provider.id, 1001, "inv_x")
    assert refused.value.status == 409 and refused.value.code == "insufficient_funds"
    session.rollback()
    charge_invoice(session, isf.id, provider.id, 1000, "inv_y")
    charge_invoice(session, isf.id, provider.id, 1000, "inv_y")  # idempotent on the invoice
    session.commit()
    figures = figures_for(session, [isf.id])[isf.id]
    assert (figures.allocated_pence, figures.spent_pence, figures.balance_pence) == (1000, 1000, 0)


def test_a_reversal_negates_every_posting_once(session):
    isf = make_isf_account(session)
    fund(session, isf, 700)
    entry = session.scalar(select(JournalEntry))
    reversal = reverse_entry(session, entry.id, "wrong amount")
    assert reverse_entry(session, entry.id, "again").id == reversal.id  # same key: same entry
    with pytest.raises(EntryAlreadyReversed):
        reverse_entry(session, entry.id, None, idempotency_key="other")
    session.commit()
    assert balance(session, isf_ledger_account(session, isf).id) == 0
    assert figures_for(session, [isf.id])[isf.id].allocated_pence == 0


def test_an_allocation_already_spent_cannot_be_reversed(session):
    isf = make_isf_account(session)
    fund(session, isf, 700)
    charge_invoice(session, isf.id, make_provider(session).id, 500, "inv_1")
    session.commit()
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == EntryKind.ALLOCATION))
    with pytest.raises(InsufficientFunds):
        reverse_entry(session, entry.id, None)


def _sum_of_postings(session, account_id):
    return session.scalar(
        select(func.coalesce(func.sum(Posting.amount_pence), 0)).where(
            Posting.account_id == account_id
        )
    )


def test_the_kept_balance_follows_single_batched_and_reversed_entries_and_guards_the_floor(
    session,
):
    isf = make_isf_account(session)
    provider = make_provider(session)
    funding, held = _funding(session, isf), isf_ledger_account(session, isf)
    written = post_entries(
        session,
        EntryKind.ALLOCATION,
        [Movement([(funding, -300), (held, 300)], None, f"alloc-batch-{n}") for n in range(3)],
    )
    post_entry(session, EntryKind.ALLOCATION, [(funding, -50), (held, 50)], None, "alloc-one")
    reverse_entry(session, written["alloc-batch-0"], "sent twice")
    session.commit()
    for account, expected in ((held, 650), (funding, -650)):  # balance(): the kept column
        assert balance(session, account.id) == expected == _sum_of_postings(session, account.id)
    # The floor is checked against the kept balance: 650 held, so 651 is refused, 650 is not.
    with pytest.raises(InsufficientFunds):
        charge_invoice(session, isf.id, provider.id, 651, "inv_over")
    session.rollback()
    charge_invoice(session, isf.id, provider.id, 650, "inv_all")
    session.commit()
    assert balance(session, held.id) == 0 == _sum_of_postings(session, held.id)


@pytest.mark.postgres
def test_postgres_refuses_to_update_or_delete_postings_and_entries(session):
    isf = make_isf_account(session)
    fund(session, isf, 700)
    for statement in (
        update(Posting).values(amount_pence=1),
        text("DELETE FROM postings"),
        update(JournalEntry).values(memo="edited"),
        text("DELETE FROM journal_entries"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(statement)
        session.rollback()


@pytest.mark.postgres
@pytest.mark.committed  # PostgreSQL checks the balance at COMMIT (a deferred trigger)
def test_postgres_refuses_to_commit_an_unbalanced_entry_written_behind_the_ledgers_back(session):
    isf = make_isf_account(session)
    fund(session, isf, 700)
    entry = session.scalar(select(JournalEntry))
    account = isf_ledger_account(session, isf)
    session.add(Posting(id="pst_rogue", entry_id=entry.id, account_id=account.id, amount_pence=5))
    with pytest.raises(DBAPIError, match="does not balance"):
        session.commit()
    session.rollback()
