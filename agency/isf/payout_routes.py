"""HTTP routes: provider payout accounts, payment runs, bank references, the Stripe webhook."""

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.isf import payment_runs, payout_accounts, settlement
from agency.isf.models import Invoice
from agency.isf.route_common import READERS
from agency.isf.schemas import (
    BankReferenceSchema,
    PaymentRunSchema,
    PayoutAccountSchema,
    PayoutSchema,
    ReconciliationQuerySchema,
    ReconciliationSchema,
    WebhookAckSchema,
)
from agency.isf.webhooks import receive_stripe_event
from agency.web import CSV_DOC, csv_response, db_session

# Nested under the ISF blueprint (agency.isf.routes), whose tag it shares.
blp = Blueprint("payouts", __name__)


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["agency"].settings


def _gateway():  # type: ignore[no-untyped-def]
    """The payment gateway the composition root made (agency.bootstrap)."""
    return current_app.extensions["agency"].container.gateway


def _account_body(account, onboarding_url=None):  # type: ignore[no-untyped-def]
    body = {f: getattr(account, f) for f in PayoutAccountSchema().fields if hasattr(account, f)}
    if onboarding_url:
        body["onboarding_url"] = onboarding_url
    return body


@blp.route("/payout-accounts")
class PayoutAccounts(MethodView):
    @blp.response(201, PayoutAccountSchema)
    @requires(Kind.PROVIDER)
    def post(self):
        """Open (or resume onboarding of) the calling provider's payout account"""
        account, url = payout_accounts.open_payout_account(
            db_session(), current_principal(), _gateway()
        )
        return _account_body(account, url)


@blp.route("/payout-accounts/me")
class MyPayoutAccount(MethodView):
    @blp.response(200, PayoutAccountSchema)
    @requires(Kind.PROVIDER)
    def get(self):
        """The calling provider's payout account and its status"""
        return _account_body(payout_accounts.get_payout_account(db_session(), current_principal()))


@blp.route("/payment-runs")
class PaymentRuns(MethodView):
    @blp.response(202, PaymentRunSchema)
    @requires(Kind.MANAGER)
    def post(self):
        """Pay every approved, unpaid ISF invoice of the agency (runs as a job)"""
        return payment_runs.start_payment_run(
            db_session(),
            current_principal(),
            current_app.extensions["agency"].jobs,
            _gateway().name,
        )


@blp.route("/reconciliations")
class Reconciliations(MethodView):
    @blp.arguments(ReconciliationQuerySchema, location="query")
    @blp.response(202, ReconciliationSchema)
    @requires(Kind.MANAGER)
    def post(self, query):
        """Compare the agency's payouts and ledger with the transfers Stripe reports (a job)"""
        session, principal = db_session(), current_principal()
        days = query.get("days") or _settings().reconcile_window_days
        record = payment_runs.start_reconciliation(
            session, principal, current_app.extensions["agency"].jobs, days
        )
        return {"job_id": record.id, "agency_id": principal.agency_id, "days": days}


@blp.route("/payment-runs/<payment_run_id>")
class PaymentRunItem(MethodView):
    @blp.response(200, PaymentRunSchema)
    @requires(*READERS)
    def get(self, payment_run_id):
        """A payment run and its figures"""
        return payment_runs.get_payment_run(db_session(), current_principal(), payment_run_id)


@blp.route("/payment-runs/<payment_run_id>/payouts")
class PaymentRunPayouts(MethodView):
    @blp.response(200, PayoutSchema(many=True))
    @requires(*READERS)
    def get(self, payment_run_id):
        """The payouts a payment run made"""
        return payment_runs.payouts_of_run(db_session(), current_principal(), payment_run_id)


@blp.route("/payment-runs/<payment_run_id>/payment-file")
class PaymentFile(MethodView):
    @blp.doc(**CSV_DOC)
    @requires(Kind.MANAGER)
    def get(self, payment_run_id):
        """The bank payment file (CSV) of a manual bank transfer run"""
        session, principal = db_session(), current_principal()
        rows: list[list[object]] = [
            ["payout_id", "invoice_number", "provider_id", "amount_gbp", "status"]
        ]
        for payout in payment_runs.payouts_of_run(session, principal, payment_run_id):
            invoice = session.get(Invoice, payout.invoice_id)
            pounds, pence = divmod(payout.amount_pence, 100)
            rows.append(
                [
                    payout.id,
                    invoice.number if invoice else "",
                    payout.provider_id,
                    f"{pounds}.{pence:02d}",
                    payout.status.value,
                ]
            )
        return csv_response(rows, stream=False)


@blp.route("/payouts/<payout_id>/bank-reference")
class BankReference(MethodView):
    @blp.arguments(BankReferenceSchema)
    @blp.response(200, PayoutSchema)
    @requires(Kind.MANAGER)
    def post(self, body, payout_id):
        """Record the bank reference of a manual payment (settles the payout)"""
        return settlement.record_bank_reference(
            db_session(), current_principal(), payout_id, body["bank_reference"]
        )


@blp.route("/webhooks/stripe")
class StripeWebhook(MethodView):
    @blp.doc(security=[])
    @blp.response(200, WebhookAckSchema)
    @blp.alt_response(400, description="Bad signature (bad_signature)")
    def post(self):
        """Stripe events (signed with Stripe-Signature): transfers and connected accounts"""
        settings = _settings()
        gateway = _gateway() if settings.stripe_api_key else None
        fresh = receive_stripe_event(
            db_session(),
            request.get_data(),
            request.headers.get("Stripe-Signature"),
            settings.stripe_webhook_secret,
            gateway,
        )
        return {"received": True, "duplicate": not fresh}
