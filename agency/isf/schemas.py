"""Request and response bodies for ISF accounts, allocations, returns, payouts and payment runs."""

import marshmallow as ma
from marshmallow import validate

from agency.config import RECONCILE_WINDOW_DAYS, RECONCILE_WINDOW_MAX_DAYS

PENCE = {"description": "Whole pence (GBP)", "example": 52000}
# The most one allocation or return may move: GBP 1,000,000, above any personal budget's
# year. Unbounded, a number past PostgreSQL's bigint would fail at the INSERT (a 500).
MAX_ENTRY_PENCE = 100_000_000


def _pence(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("metadata", PENCE)
    # strict: "12.5" or 12.5 is refused rather than rounded; money is whole pence.
    return ma.fields.Integer(
        strict=True, validate=validate.Range(min=1, max=MAX_ENTRY_PENCE), **kwargs
    )


class IsfAccountCreateSchema(ma.Schema):
    seeker_id = ma.fields.String(required=True, metadata={"example": "skr_1a2b..."})
    council_reference = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The council's ISF register reference", "example": "BCC-ISF-0042"},
    )
    plan_start = ma.fields.Date(required=True, metadata={"example": "2026-12-01"})
    plan_end = ma.fields.Date(required=True, metadata={"example": "2027-11-30"})
    agency_id = ma.fields.String(
        metadata={"description": "Only for admins; managers open accounts in their agency"}
    )


class IsfAccountSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "isf_5c1e..."})
    seeker_id = ma.fields.String(
        metadata={"description": "Absent for auditors, who see seeker_ref instead"}
    )
    seeker_ref = ma.fields.String(
        metadata={"description": "Pseudonymous seeker reference", "example": "S-3F9A1C2B7D"}
    )
    agency_id = ma.fields.String(metadata={"example": "agy_81fa..."})
    council_id = ma.fields.String(metadata={"example": "cnc_02be..."})
    council_reference = ma.fields.String(metadata={"example": "BCC-ISF-0042"})
    plan_start = ma.fields.Date()
    plan_end = ma.fields.Date()
    status = ma.fields.String(metadata={"example": "open"})
    allocated_pence = ma.fields.Integer(metadata={**PENCE, "description": "Allocated so far"})
    spent_pence = ma.fields.Integer(metadata={**PENCE, "description": "Charged by invoices"})
    committed_pence = ma.fields.Integer(
        metadata={**PENCE, "description": "Approved invoices not yet paid"}
    )
    returned_pence = ma.fields.Integer(metadata={**PENCE, "description": "Given back"})
    balance_pence = ma.fields.Integer(metadata={**PENCE, "description": "Left in the ISF"})
    overdraft_limit_pence = ma.fields.Integer(
        metadata={
            **PENCE,
            "description": "How far below zero the council lets it go (0: not at all)",
        }
    )
    overdraft_reason = ma.fields.String(
        allow_none=True, metadata={"example": "Allocation for December delayed by the council"}
    )
    created_at = ma.fields.AwareDateTime()


class OverdraftSchema(ma.Schema):
    limit_pence = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=10_000_000),
        metadata={**PENCE, "description": "0 withdraws the overdraft", "example": 20000},
    )
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(min=3, max=500),
        metadata={"example": "Allocation for December delayed by the council"},
    )


class AllocationCreateSchema(ma.Schema):
    amount_pence = _pence(required=True)
    period_start = ma.fields.Date(required=True, metadata={"example": "2026-12-01"})
    period_end = ma.fields.Date(required=True, metadata={"example": "2026-12-28"})
    memo = ma.fields.String(validate=validate.Length(max=500), metadata={"example": "Four-weekly"})
    idempotency_key = ma.fields.String(
        validate=validate.Length(min=8, max=120),
        metadata={"description": "Send the same key to retry safely", "example": "alloc-2026-12"},
    )


class ReturnCreateSchema(ma.Schema):
    amount_pence = _pence(metadata={**PENCE, "description": "Default: the whole balance"})
    close = ma.fields.Boolean(
        load_default=False, metadata={"description": "Close the account after returning"}
    )
    memo = ma.fields.String(validate=validate.Length(max=500))


class ReversalSchema(ma.Schema):
    memo = ma.fields.String(validate=validate.Length(max=500), metadata={"example": "Typo"})


class JournalEntrySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "jen_7d2a..."})
    kind = ma.fields.String(metadata={"example": "allocation"})
    memo = ma.fields.String(allow_none=True)
    reverses_entry_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class PostingLineSchema(ma.Schema):
    entry_id = ma.fields.String()
    kind = ma.fields.String(metadata={"example": "invoice"})
    memo = ma.fields.String(allow_none=True)
    amount_pence = ma.fields.Integer(
        metadata={"description": "Into the ISF positive, out negative", "example": -3600}
    )
    created_at = ma.fields.AwareDateTime()


class PayoutAccountSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "poa_0c9e..."})
    provider_id = ma.fields.String()
    gateway = ma.fields.String(metadata={"example": "stripe"})
    external_id = ma.fields.String(metadata={"example": "acct_1Nv0FG..."})
    status = ma.fields.String(metadata={"example": "onboarding"})
    details_submitted = ma.fields.Boolean()
    payouts_enabled = ma.fields.Boolean()
    onboarding_url = ma.fields.String(
        metadata={"description": "Open this to finish onboarding (Stripe account link)"}
    )


def _count(description):  # type: ignore[no-untyped-def]
    return ma.fields.Integer(dump_default=0, metadata={"description": description, "example": 0})


class PaymentRunFiguresSchema(ma.Schema):
    """Always every key; counted from the run's payouts, so right after a restarted run too."""

    invoices = _count("Invoices this run paid, tried or skipped (the sum of the counts below)")
    sent = _count("Payouts the gateway accepted (sent, or already settled)")
    sent_pence = ma.fields.Integer(dump_default=0, metadata={**PENCE, "example": 43200})
    failed = _count("Payouts the gateway refused; the invoice stays payable for a later run")
    failed_pence = ma.fields.Integer(dump_default=0, metadata={**PENCE, "example": 0})
    uncertain = _count("Payouts with no definitive answer yet; the job retries the same keys")
    uncertain_pence = ma.fields.Integer(dump_default=0, metadata={**PENCE, "example": 0})
    skipped_no_payout_account = _count(
        "Invoices not paid: the provider has no enabled payout account (no money moved)"
    )
    skipped_other_run = _count("Invoices another run is paying or has already sent")


class PaymentRunSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "prn_4b1d..."})
    agency_id = ma.fields.String()
    status = ma.fields.String(metadata={"example": "queued"})
    gateway = ma.fields.String(
        metadata={"description": "stripe or manual_bank_transfer", "example": "stripe"}
    )
    job_id = ma.fields.String(allow_none=True)
    figures = ma.fields.Nested(PaymentRunFiguresSchema)
    created_at = ma.fields.AwareDateTime()
    finished_at = ma.fields.AwareDateTime(allow_none=True)


class PayoutSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "pay_9a0b..."})
    invoice_id = ma.fields.String()
    provider_id = ma.fields.String()
    amount_pence = ma.fields.Integer(metadata=PENCE)
    gateway = ma.fields.String()
    status = ma.fields.String(metadata={"example": "sent"})
    external_id = ma.fields.String(allow_none=True, metadata={"example": "tr_1Q2w..."})
    error_code = ma.fields.String(allow_none=True)
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    settled_at = ma.fields.AwareDateTime(allow_none=True)


class BankReferenceSchema(ma.Schema):
    bank_reference = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={
            "description": "The reference on the agency's bank payment",
            "example": "FP-88123",
        },
    )


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean()
    duplicate = ma.fields.Boolean()


class ReconciliationQuerySchema(ma.Schema):
    days = ma.fields.Integer(
        validate=validate.Range(min=1, max=RECONCILE_WINDOW_MAX_DAYS),
        metadata={
            "description": "Compare the transfers and payouts of the last so many days "
            f"(default RECONCILE_WINDOW_DAYS, {RECONCILE_WINDOW_DAYS}); ledger totals are "
            "always whole-history",
            "example": RECONCILE_WINDOW_DAYS,
        },
    )


class ReconciliationSchema(ma.Schema):
    job_id = ma.fields.String(
        metadata={
            "description": "Poll GET /jobs/{job_id}; its result lists the differences and "
            "the window compared"
        }
    )
    agency_id = ma.fields.String()
    days = ma.fields.Integer(
        metadata={"description": "The days compared", "example": RECONCILE_WINDOW_DAYS}
    )
