"""Stateful property test: random sequences of money movements never break the books.

After every step, against the real database: every entry sums to zero, all balances
together sum to zero (no money made or lost), no ISF (nor payable, clearing, paid) is
negative, every account's kept balance (``balance_pence``) is the sum of its postings, and
each ISF's balance equals both the sum of its postings and a plain model.
HYPOTHESIS_LEDGER_EXAMPLES (default 20) and HYPOTHESIS_LEDGER_STEPS (default 30) set the
size; a long run: HYPOTHESIS_LEDGER_EXAMPLES=2000.
"""

import datetime as dt
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from agency.access import Kind, Principal
from agency.errors import Conflict
from agency.isf.funding import allocate, return_unspent
from agency.isf.gateway import PaymentRefused, PaymentUncertain
from agency.isf.invoices import approve_invoice
from agency.isf.isf_accounts import figures_for, isf_ledger_account
from agency.isf.ledger import NON_NEGATIVE, balance, reverse_entry
from agency.isf.models import (
    EntryKind,
    Invoice,
    InvoiceStatus,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutStatus,
    Posting,
)
from agency.isf.payouts import pay_invoice
from agency.isf.settlement import reverse_payout, settle_payout
from tests.factories import make_agency, make_provider
from tests.isf.money_factories import make_isf_account, make_isf_arrangement, make_payout_account

EXAMPLES = int(os.environ.get("HYPOTHESIS_LEDGER_EXAMPLES", "20"))
STEPS = int(os.environ.get("HYPOTHESIS_LEDGER_STEPS", "30"))
ADMIN = Principal(kind=Kind.ADMIN, id="usr_property_test")


class ScriptedGateway:
    """Answers each payment as the test says: sent, refused or no answer at all."""

    name = "scripted"

    def __init__(self):
        self.next = "sent"
        self.count = 0

    def pay(self, *, amount_pence, destination, idempotency_key, transfer_group, metadata):
        if self.next == "refused":
            raise PaymentRefused("balance_insufficient")
        if self.next == "uncertain":
            raise PaymentUncertain("connection_error")
        self.count += 1
        return f"tr_{self.count}"

    def find_payment(self, transfer_group):
        return None


def test_random_money_movements_keep_the_books_balanced(session):
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            agency = make_agency(session)
            self.isfs = [make_isf_account(session, agency) for _ in range(2)]
            self.providers = [make_provider(session, agency) for _ in range(2)]
            for provider in self.providers:
                make_payout_account(session, provider, f"acct_{provider.id}", "scripted")
            self.arrangements = {
                (i, p): make_isf_arrangement(session, isf, provider)
                for i, isf in enumerate(self.isfs)
                for p, provider in enumerate(self.providers)
            }
            self.model = [0, 0]
            self.gateway = ScriptedGateway()

        # --- movements -------------------------------------------------------------------

        @rule(i=st.integers(0, 1), amount=st.integers(1, 100_000))
        def allocate_funds(self, i, amount):
            isf = self.isfs[i]
            if isf.status == "closed":
                return
            allocate(
                session,
                ADMIN,
                isf.id,
                amount_pence=amount,
                period_start=dt.date(2026, 1, 1),
                period_end=dt.date(2026, 1, 28),
            )
            self.model[i] += amount

        @rule(i=st.integers(0, 1), p=st.integers(0, 1), amount=st.integers(1, 60_000))
        def approve_an_invoice(self, i, p, amount):
            if self.isfs[i].status == "closed":
                return
            try:
                approve_invoice(
                    session,
                    ADMIN,
                    arrangement_id=self.arrangements[(i, p)].id,
                    period_start=dt.date(2026, 1, 1),
                    period_end=dt.date(2026, 1, 7),
                    lines=[],
                    total_pence=amount,
                )
            except Conflict as refused:
                session.rollback()
                assert refused.code == "insufficient_funds"
                assert amount > self.model[i]
                return
            assert amount <= self.model[i]
            self.model[i] -= amount

        @rule(data=st.data(), outcome=st.sampled_from(["sent", "refused", "uncertain"]))
        def pay_an_invoice(self, data, outcome):
            unpaid = session.scalars(
                select(Invoice.id)
                .where(
                    Invoice.status == InvoiceStatus.APPROVED,
                    Invoice.isf_account_id.in_([isf.id for isf in self.isfs]),
                )
                .order_by(Invoice.approved_at)
            ).all()
            if not unpaid:
                return
            self.gateway.next = outcome
            pay_invoice(session, data.draw(st.sampled_from(unpaid)), self.gateway)

        @rule(data=st.data())
        def confirm_a_transfer(self, data):
            payouts = self._payouts(PayoutStatus.SENT, PayoutStatus.UNCERTAIN)
            if payouts:
                settle_payout(session, data.draw(st.sampled_from(payouts)), None)
                session.commit()

        @rule(data=st.data())
        def stripe_reverses_a_transfer(self, data):
            payouts = self._payouts(PayoutStatus.SENT, PayoutStatus.SETTLED)
            if payouts:
                reverse_payout(session, data.draw(st.sampled_from(payouts)), "reversed")
                session.commit()

        @rule(i=st.integers(0, 1), share=st.floats(0, 1), close=st.booleans())
        def return_unspent_funds(self, i, share, close):
            isf = self.isfs[i]
            if isf.status == "closed" or self.model[i] == 0:
                return
            amount = None if close else max(1, int(self.model[i] * share))
            try:
                return_unspent(
                    session, ADMIN, isf.id, amount_pence=amount, close=close, today=isf.plan_end
                )
            except Conflict as refused:
                session.rollback()
                assert refused.code == "invoices_outstanding"
                return
            self.model[i] -= self.model[i] if close else amount

        @rule(data=st.data())
        def reverse_an_allocation(self, data):
            reversed_ids = select(JournalEntry.reverses_entry_id).where(
                JournalEntry.reverses_entry_id.is_not(None)
            )
            allocations = session.scalars(
                select(JournalEntry)
                .where(
                    JournalEntry.kind == EntryKind.ALLOCATION,
                    JournalEntry.id.not_in(reversed_ids),
                    JournalEntry.agency_id == self.isfs[0].agency_id,
                )
                .order_by(JournalEntry.created_at)
            ).all()
            if not allocations:
                return
            entry = data.draw(st.sampled_from(allocations))
            posting = session.scalar(
                select(Posting)
                .join(LedgerAccount)
                .where(Posting.entry_id == entry.id, LedgerAccount.kind == "isf")
            )
            i = [self._ledger_id(k) for k in range(2)].index(posting.account_id)
            try:
                reverse_entry(session, entry.id, "correction")
                session.commit()
            except Conflict as refused:
                session.rollback()
                assert refused.code == "insufficient_funds"
                assert posting.amount_pence > self.model[i]
                return
            self.model[i] -= posting.amount_pence

        # --- the books -------------------------------------------------------------------

        def _payouts(self, *statuses):
            return session.scalars(
                select(Payout)
                .where(Payout.status.in_(statuses), Payout.agency_id == self.isfs[0].agency_id)
                .order_by(Payout.created_at)
            ).all()

        def _ledger_id(self, i):
            return isf_ledger_account(session, self.isfs[i]).id

        # Draws pick rows by position, so rows are listed in creation order: ids are random,
        # and ordering by them would make a replayed example pick different rows.

        @invariant()
        def books_balance(self):
            session.rollback()  # read what is committed, nothing half-done
            unbalanced = session.execute(
                select(Posting.entry_id)
                .group_by(Posting.entry_id)
                .having(func.sum(Posting.amount_pence) != 0)
            ).all()
            assert unbalanced == []
            assert (session.scalar(select(func.sum(Posting.amount_pence))) or 0) == 0
            negative = session.execute(
                select(LedgerAccount.key, func.sum(Posting.amount_pence))
                .join(Posting, Posting.account_id == LedgerAccount.id)
                .where(LedgerAccount.kind.in_([k.value for k in NON_NEGATIVE]))
                .group_by(LedgerAccount.key)
                .having(func.sum(Posting.amount_pence) < 0)
            ).all()
            assert negative == []
            total = func.coalesce(func.sum(Posting.amount_pence), 0)
            kept_differs = session.execute(
                select(LedgerAccount.key, LedgerAccount.balance_pence, total)
                .outerjoin(Posting, Posting.account_id == LedgerAccount.id)
                .group_by(LedgerAccount.id, LedgerAccount.key, LedgerAccount.balance_pence)
                .having(LedgerAccount.balance_pence != total)
            ).all()
            assert kept_differs == []  # the kept balance of every account is its postings' sum
            figures = figures_for(session, [isf.id for isf in self.isfs])
            for i, isf in enumerate(self.isfs):
                held = balance(session, self._ledger_id(i))
                f = figures[isf.id]
                assert held == f.balance_pence == self.model[i]
                assert f.allocated_pence - f.spent_pence - f.returned_pence == held
                session.refresh(isf)

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
