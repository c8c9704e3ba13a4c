"""ISF money: ledger accounts, journal entries and postings; ISF accounts, invoices, payouts.

Sign convention (one for every account): a posting's ``amount_pence`` is positive when
money flows INTO the account and negative when it flows OUT. So a council's funding
account goes negative as it allocates, an ISF's balance is what the person has left,
a provider's payable is what we owe them, clearing is what is on its way through the
payment provider, paid-out is what providers have received, returns is what went back
to the council. Every entry sums to zero, so all balances together always sum to zero.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Kind, Principal, Scope, owner_clause
from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow


class AccountKind(enum.StrEnum):
    COUNCIL_FUNDING = "council_funding"  # per council: the source of allocations
    ISF = "isf"  # per ISF account: the person's budget held by the agency
    PROVIDER_PAYABLE = "provider_payable"  # per provider and agency: approved, not yet sent
    CLEARING = "clearing"  # per agency: sent to the payment provider, not yet confirmed
    PROVIDER_PAID = "provider_paid"  # per provider and agency: confirmed paid
    COUNCIL_RETURNS = "council_returns"  # per council: unspent funds given back


class LedgerAccount(IdMixin, Base):
    __tablename__ = "ledger_accounts"
    __label__ = "ledger account"

    # Natural key ("isf:isf_...", "payable:prv_...:agy_..."): one account per owner.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"), index=True)
    isf_account_id: Mapped[str | None] = mapped_column(ForeignKey("isf_accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # SUM(amount_pence) over the account's postings, kept by the database: a trigger on
    # postings adds each INSERT's amounts in the inserting transaction (migration
    # 0024ledgerbalance). Read it with agency.isf.ledger.balances, never from a loaded
    # object: the trigger's change does not reach objects already in a session.
    balance_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class EntryKind(enum.StrEnum):
    ALLOCATION = "allocation"  # council funding -> ISF
    INVOICE = "invoice"  # ISF -> provider payable
    PAYOUT = "payout"  # provider payable -> clearing
    PAYOUT_SETTLEMENT = "payout_settlement"  # clearing -> provider paid
    RETURN = "return"  # ISF -> council returns
    REVERSAL = "reversal"  # the exact opposite of an earlier entry


class JournalEntry(IdMixin, Base):
    """One movement of money; append-only (PostgreSQL refuses UPDATE and DELETE)."""

    __tablename__ = "journal_entries"
    __label__ = "journal entry"

    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind), index=True)
    memo: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # An entry is reversed at most once; the reversal points at it.
    reverses_entry_id: Mapped[str | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(40))  # principal id, or "system"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class Posting(IdMixin, Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_pence <> 0", name="nonzero"),
        Index("ix_postings_account_entry", "account_id", "entry_id"),
    )

    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)


class IsfStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class IsfAccount(IdMixin, TimestampMixin, Base):
    """A person's Individual Service Fund held by one agency, as on the council's register."""

    __tablename__ = "isf_accounts"
    __table_args__ = (UniqueConstraint("seeker_id", "agency_id"),)
    __label__ = "ISF account"

    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"), index=True)
    council_reference: Mapped[str] = mapped_column(String(64))
    plan_start: Mapped[dt.date] = mapped_column(Date)
    plan_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[IsfStatus] = mapped_column(str_enum(IsfStatus), default=IsfStatus.OPEN)
    closed_at: Mapped[dt.datetime | None]
    created_by: Mapped[str] = mapped_column(String(40))
    # How far below zero invoices may take this ISF: 0 unless the council's auditor approved
    # an overdraft (e.g. while a late allocation is processed), with the reason recorded.
    overdraft_limit_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    overdraft_reason: Mapped[str | None] = mapped_column(Text)
    overdraft_approved_by: Mapped[str | None] = mapped_column(String(40))
    overdraft_approved_at: Mapped[dt.datetime | None]

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class InvoiceStatus(enum.StrEnum):
    APPROVED = "approved"  # charged to the ISF (when ISF-funded), awaiting payment
    PAID = "paid"
    VOID = "void"


class Invoice(IdMixin, TimestampMixin, Base):
    """The minimum the payment side needs of an invoice (timesheets build them)."""

    __tablename__ = "invoices"
    __table_args__ = (
        # Numbering counts the agency's invoices of the month by prefix (``number LIKE
        # 'INV-X-202612-%'``): PostgreSQL serves a prefix LIKE from a pattern_ops index only,
        # unless the database's collation is C (migration 0026invoiceprefix). On SQLite,
        # whose LIKE uses no index, it is a plain index beside the unique one.
        Index(
            "ix_invoices_number_prefix",
            "number",
            postgresql_ops={"number": "varchar_pattern_ops"},
        ),
    )
    __label__ = "invoice"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    isf_account_id: Mapped[str | None] = mapped_column(ForeignKey("isf_accounts.id"), index=True)
    funding: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_pence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus), default=InvoiceStatus.APPROVED, index=True
    )
    approved_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    # The prompt-payment figure councils ask for: whole days from approval to paid.
    days_to_paid: Mapped[int | None]

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id], council_ids=[self.council_id], provider_id=self.provider_id
        )

    @classmethod
    def visibility(cls, principal: Principal) -> Any:
        """A partner sees the invoices of its arrangements; others by the owner columns."""
        if principal.kind is Kind.PARTNER:
            arrangements = cls.metadata.tables["arrangements"]
            theirs = select(arrangements.c.id).where(
                arrangements.c.partner_client_id == principal.id
            )
            return cls.arrangement_id.in_(theirs)
        return owner_clause(cls, principal)


class PayoutAccountStatus(enum.StrEnum):
    ONBOARDING = "onboarding"  # account made, provider still filling in details
    ENABLED = "enabled"  # can receive transfers
    RESTRICTED = "restricted"  # the payment provider needs more information


class PayoutAccount(IdMixin, TimestampMixin, Base):
    """Where a provider gets paid: a Stripe connected account (acct_...) or bank transfer."""

    __tablename__ = "payout_accounts"
    __label__ = "payout account"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), unique=True)
    gateway: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[PayoutAccountStatus] = mapped_column(
        str_enum(PayoutAccountStatus), default=PayoutAccountStatus.ONBOARDING
    )
    details_submitted: Mapped[bool] = mapped_column(default=False)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)

    def access_scope(self) -> Scope:
        return Scope.of(provider_id=self.provider_id)


class PaymentRunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    # Its job gave up (retries spent, or the worker killed on the last one): the figures
    # count what it paid; a new run pays whatever is still approved.
    FAILED = "failed"


class PaymentRun(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_runs"
    __label__ = "payment run"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"))
    status: Mapped[PaymentRunStatus] = mapped_column(
        str_enum(PaymentRunStatus), default=PaymentRunStatus.QUEUED
    )
    gateway: Mapped[str] = mapped_column(String(20))
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[dt.datetime | None]

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"  # recorded and posted to clearing; the gateway call may be in flight
    UNCERTAIN = "uncertain"  # the gateway call failed in a way that may have paid: retry same key
    SENT = "sent"  # the gateway accepted it (a transfer id, or in a bank payment file)
    FAILED = "failed"  # the gateway refused it; clearing reversed; a later run retries
    SETTLED = "settled"  # confirmed paid (webhook, or the bank reference recorded)
    REVERSED = "reversed"  # the payment provider took it back


class Payout(IdMixin, TimestampMixin, Base):
    """One invoice's payment; recorded BEFORE calling the gateway, one per invoice ever."""

    __tablename__ = "payouts"
    __label__ = "payout"
    # An agency's payouts by creation: reconciliation reads its window of them in that
    # order; the index also serves every read by agency alone (migration 0030).
    __table_args__ = (Index("ix_payouts_agency_created", "agency_id", "created_at"),)

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), unique=True)
    payment_run_id: Mapped[str | None] = mapped_column(ForeignKey("payment_runs.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    gateway: Mapped[str] = mapped_column(String(20))
    # Bumped only after a definitive refusal, so an uncertain retry always reuses the key.
    attempt: Mapped[int] = mapped_column(default=1)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[PayoutStatus] = mapped_column(
        str_enum(PayoutStatus), default=PayoutStatus.PENDING, index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(80), index=True)  # tr_... / bank ref
    error_code: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[dt.datetime | None]
    settled_at: Mapped[dt.datetime | None]

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id], council_ids=[self.council_id], provider_id=self.provider_id
        )


class StripeEvent(Base):
    """Webhook events already processed: Stripe may deliver one more than once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
