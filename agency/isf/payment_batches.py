"""A payment run in chunks: record a chunk's payouts in one transaction, send, record answers.

The order that makes each payment at most once is the same as ``payouts.pay_invoice``'s,
per chunk instead of per invoice:
1. one transaction per chunk: lock the chunk's invoices, create their payouts (one per
   invoice ever, key ``invoice-<id>-payout``) and post every payable -> clearing entry
   with :func:`agency.isf.ledger_batch.post_entries`; commit;
2. send the chunk's transfers concurrently (a bounded pool), each under its own key;
3. one transaction: record every answer (sent, refused: clearing reversed, uncertain).
A kill anywhere leaves pending payouts that the next run resends under the same keys.
Rare cases (a stored Stripe 5xx to resolve by asking Stripe) go through ``pay_invoice``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.ids import new_id
from agency.isf.gateway import PaymentGateway, PaymentRefused, PaymentUncertain
from agency.isf.ledger import ledger_account, reverse_entry
from agency.isf.ledger_batch import Movement, post_entries
from agency.isf.manual_gateway import MANUAL_BANK_TRANSFER
from agency.isf.models import (
    AccountKind,
    EntryKind,
    Invoice,
    InvoiceStatus,
    JournalEntry,
    LedgerAccount,
    PaymentRun,
    PaymentRunStatus,
    Payout,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutStatus,
)
from agency.unit_of_work import unit_of_work

CHUNK = 250
RESENDABLE = (PayoutStatus.PENDING, PayoutStatus.UNCERTAIN)
RETRYABLE = (PayoutStatus.FAILED, PayoutStatus.REVERSED)
SERVER_ERRORS = frozenset({"api_error"})


@dataclass(frozen=True)
class Transfer:
    """One payout to send: everything the gateway call needs, read before the commit."""

    payout_id: str
    invoice_id: str
    agency_id: str
    attempt: int
    key: str
    amount_pence: int
    destination: str

    def send(self, gateway: PaymentGateway) -> str | None:
        """The gateway call (its transfer id, if it gives one): the attempt's idempotency key,
        a transfer group per attempt and the metadata a webhook is matched by."""
        return gateway.pay(
            amount_pence=self.amount_pence,
            destination=self.destination,
            idempotency_key=self.key,
            transfer_group=f"{self.payout_id}-{self.attempt}",
            metadata={
                "payout_id": self.payout_id,
                "invoice_id": self.invoice_id,
                "attempt": str(self.attempt),
                "agency_id": self.agency_id,
            },
        )


@dataclass(frozen=True)
class Answer:
    transfer: Transfer
    external_id: str | None = None
    refused: str | None = None
    uncertain: str | None = None


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def payout_key(invoice_id: str, attempt: int) -> str:
    return f"invoice-{invoice_id}-payout" + ("" if attempt == 1 else f"-{attempt}")


def first_attempt(invoice: Invoice, payment_run_id: str | None, gateway_name: str) -> Payout:
    """An invoice's first payout: its pence, its run, the key of attempt 1 (not yet added)."""
    return Payout(
        id=new_id("pay"),
        invoice_id=invoice.id,
        payment_run_id=payment_run_id,
        provider_id=invoice.provider_id,
        agency_id=invoice.agency_id,
        council_id=invoice.council_id,
        amount_pence=invoice.total_pence,
        gateway=gateway_name,
        attempt=1,
        idempotency_key=payout_key(invoice.id, 1),
        status=PayoutStatus.PENDING,
    )


def next_attempt(payout: Payout, payment_run_id: str | None) -> None:
    """A failed or reversed payout tried again: a new attempt number and key, pending."""
    payout.attempt += 1
    payout.idempotency_key = payout_key(payout.invoice_id, payout.attempt)
    payout.status = PayoutStatus.PENDING
    payout.external_id = None
    payout.error_code = None
    payout.payment_run_id = payment_run_id


def destinations(session: Session, provider_ids: set[str], gateway: PaymentGateway) -> dict:  # type: ignore[type-arg]
    """provider id -> where its money goes (missing: no enabled payout account)."""
    accounts = session.scalars(
        select(PayoutAccount).where(
            PayoutAccount.provider_id.in_(provider_ids), PayoutAccount.gateway == gateway.name
        )
    )
    found = {a.provider_id: a for a in accounts}
    if gateway.name == MANUAL_BANK_TRANSFER:
        return {p: (found[p].external_id if p in found else f"bank_{p}") for p in provider_ids}
    return {p: a.external_id for p, a in found.items() if a.status is PayoutAccountStatus.ENABLED}


def record_chunk(
    session: Session, invoice_ids: Sequence[str], gateway: PaymentGateway, payment_run_id: str
) -> tuple[list[Transfer], dict[str, str], list[str]]:
    """Step 1 for a chunk (committed): (transfers to send, skip outcomes, slow-path ids)."""
    with unit_of_work(session, outermost=True) as uow:
        invoices = session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(invoice_ids))
            .order_by(Invoice.id)
            .with_for_update(skip_locked=True)  # locked: another run is recording it right now
            .execution_options(populate_existing=True)
        ).all()
        outcomes = dict.fromkeys(invoice_ids, "in_progress")
        payouts = {
            p.invoice_id: p
            for p in session.scalars(
                select(Payout)
                .where(Payout.invoice_id.in_([i.id for i in invoices]))
                .execution_options(populate_existing=True)
            )
        }
        where = destinations(session, {i.provider_id for i in invoices}, gateway)
        over = _runs_over(session, {p.payment_run_id for p in payouts.values()})
        transfers, slow, movements = [], [], []
        for invoice in invoices:
            payout = payouts.get(invoice.id)
            if invoice.status is not InvoiceStatus.APPROVED:
                outcomes[invoice.id] = "already_paid"
                continue
            if payout is not None and payout.status in (PayoutStatus.SENT, PayoutStatus.SETTLED):
                outcomes[invoice.id] = "already_sent"
                continue
            if (
                payout is not None
                and payout.status is PayoutStatus.UNCERTAIN
                and payout.error_code in SERVER_ERRORS
            ):
                slow.append(invoice.id)
                del outcomes[invoice.id]
                continue
            destination = where.get(invoice.provider_id)
            if destination is None:
                outcomes[invoice.id] = "no_payout_account"
                continue
            if payout is None:
                payout = first_attempt(invoice, payment_run_id, gateway.name)
                session.add(payout)
                movements.append(payout)
            elif payout.status in RETRYABLE:
                next_attempt(payout, payment_run_id)
                movements.append(payout)
            elif payout.payment_run_id != payment_run_id and payout.payment_run_id in over:
                payout.payment_run_id = payment_run_id  # left unanswered by a failed run: ours now
            del outcomes[invoice.id]
            transfers.append(
                Transfer(
                    payout.id,
                    invoice.id,
                    payout.agency_id,
                    payout.attempt,
                    payout.idempotency_key,
                    payout.amount_pence,
                    destination,
                )
            )
        session.flush()
        post_entries(session, EntryKind.PAYOUT, [_to_clearing(session, p) for p in movements])
        uow.commit()  # recorded before any gateway call: a crash now resends the same keys
    return transfers, outcomes, slow


def _runs_over(session: Session, run_ids: set[str | None]) -> set[str | None]:
    """Of these runs, the ones no longer running (None: a payout made outside any run)."""
    ids = {r for r in run_ids if r}
    over = set(
        session.scalars(
            select(PaymentRun.id).where(
                PaymentRun.id.in_(ids),
                PaymentRun.status.in_((PaymentRunStatus.FINISHED, PaymentRunStatus.FAILED)),
            )
        )
    )
    return {None, *over}


def _to_clearing(session: Session, payout: Payout) -> Movement:
    owner = {"agency_id": payout.agency_id, "council_id": payout.council_id}
    payable = _account(
        session, AccountKind.PROVIDER_PAYABLE, provider_id=payout.provider_id, **owner
    )
    clearing = _account(session, AccountKind.CLEARING, **owner)
    return Movement(
        [(payable, -payout.amount_pence), (clearing, payout.amount_pence)],
        f"Payout {payout.id} of invoice {payout.invoice_id} (attempt {payout.attempt})",
        f"payout-{payout.id}-{payout.attempt}",
        payout.agency_id,
        payout.council_id,
    )


def _account(session: Session, kind: AccountKind, **owner: str | None) -> LedgerAccount:
    cache = session.info.setdefault("ledger_account_cache", {})
    key = (kind, tuple(sorted(owner.items())))
    if key not in cache:
        cache[key] = ledger_account(session, kind, **owner)
    return cache[key]  # type: ignore[no-any-return]


def send(transfers: Sequence[Transfer], gateway: PaymentGateway, concurrency: int) -> list[Answer]:
    """Step 2: every transfer through the gateway, at most ``concurrency`` at a time."""
    call: Callable[[Transfer], Answer] = lambda t: _send_one(t, gateway)  # noqa: E731
    if concurrency <= 1 or len(transfers) <= 1:
        return [call(t) for t in transfers]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(call, transfers))


def _send_one(transfer: Transfer, gateway: PaymentGateway) -> Answer:
    try:
        external_id = transfer.send(gateway)
    except PaymentRefused as refusal:
        return Answer(transfer, refused=refusal.code[:80])
    except PaymentUncertain as uncertain:
        return Answer(transfer, uncertain=uncertain.code[:80])
    return Answer(transfer, external_id=external_id)


def record_answers(session: Session, answers: Sequence[Answer]) -> dict[str, str]:
    """Step 3 (committed): each payout's answer; invoice id -> "sent"/"failed"/"uncertain"."""
    if not answers:
        return {}
    with unit_of_work(session, outermost=True) as uow:
        payouts = {
            p.id: p
            for p in session.scalars(
                select(Payout)
                .where(Payout.id.in_([a.transfer.payout_id for a in answers]))
                .order_by(Payout.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        outcomes = {}
        now = utcnow()
        for answer in answers:
            payout = payouts[answer.transfer.payout_id]
            current = payout.attempt == answer.transfer.attempt and payout.status in RESENDABLE
            if answer.refused is not None:
                outcomes[payout.invoice_id] = "failed"
                if current:  # else another run already recorded this attempt's outcome
                    payout.status = PayoutStatus.FAILED
                    payout.error_code = answer.refused
                    entry = session.scalar(
                        select(JournalEntry.id).where(
                            JournalEntry.idempotency_key == f"payout-{payout.id}-{payout.attempt}"
                        )
                    )
                    assert entry is not None
                    reverse_entry(session, entry, f"Payout refused: {answer.refused}")
            elif answer.uncertain is not None:
                outcomes[payout.invoice_id] = "uncertain"
                if current:
                    payout.status = PayoutStatus.UNCERTAIN
                    payout.error_code = answer.uncertain
            else:
                outcomes[payout.invoice_id] = "sent"
                if current:  # a webhook may have settled it meanwhile
                    payout.status = PayoutStatus.SENT
                    payout.external_id = answer.external_id
                    payout.error_code = None
                    payout.sent_at = now
        uow.commit()
    return outcomes
