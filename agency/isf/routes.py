"""HTTP routes: ISF accounts, allocations, returns, statements and corrections.

The domain's blueprint: payout accounts, payment runs and the Stripe webhook
(``payout_routes``) and the register (``register_routes``) are blueprints nested under it,
so they share its tag.
"""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind, Principal
from agency.auth import current_principal, requires
from agency.isf import funding, isf_accounts
from agency.isf.models import IsfAccount
from agency.isf.overdraft import approve_overdraft
from agency.isf.payout_routes import blp as payout_blp
from agency.isf.register_routes import blp as register_blp
from agency.isf.route_common import READERS
from agency.isf.schemas import (
    AllocationCreateSchema,
    IsfAccountCreateSchema,
    IsfAccountSchema,
    JournalEntrySchema,
    OverdraftSchema,
    PostingLineSchema,
    ReturnCreateSchema,
    ReversalSchema,
)
from agency.pagination import page_of
from agency.privacy import pseudonym
from agency.web import db_session

blp = Blueprint(
    "isf",
    __name__,
    description="Individual Service Funds: accounts, ledger, payouts and payment runs",
)


def account_body(principal: Principal, isf: IsfAccount, figures) -> dict:  # type: ignore[no-untyped-def]
    body = {
        name: getattr(isf, name)
        for name in (
            "id",
            "agency_id",
            "council_id",
            "council_reference",
            "plan_start",
            "plan_end",
            "status",
            "created_at",
            "overdraft_limit_pence",
            "overdraft_reason",
        )
    }
    body.update(vars(figures))
    if principal.kind is Kind.AUDITOR:
        secret = current_app.extensions["agency"].settings.secret_key
        body["seeker_ref"] = pseudonym(secret, isf.seeker_id)
    else:
        body["seeker_id"] = isf.seeker_id
    return body


def _one(isf: IsfAccount) -> dict:  # type: ignore[type-arg]
    session, principal = db_session(), current_principal()
    return account_body(principal, isf, isf_accounts.figures_for(session, [isf.id])[isf.id])


@blp.route("/isf-accounts")
class IsfAccounts(MethodView):
    @blp.response(200, IsfAccountSchema(many=True))
    @blp.paginate()
    @requires(*READERS)
    def get(self, pagination_parameters):
        """ISF accounts with their balances (managers: their agency; auditors: their council)"""
        session, principal = db_session(), current_principal()
        stmt = isf_accounts.isf_accounts_visible_to(principal).order_by(
            IsfAccount.created_at, IsfAccount.id
        )
        page = page_of(session, stmt, pagination_parameters)
        figures = isf_accounts.figures_for(session, [isf.id for isf in page])
        return [account_body(principal, isf, figures[isf.id]) for isf in page]

    @blp.arguments(IsfAccountCreateSchema)
    @blp.response(201, IsfAccountSchema)
    @blp.alt_response(409, description="The seeker already has one here (isf_account_exists)")
    @requires(Kind.MANAGER)
    def post(self, body):
        """Open the ISF account this agency holds for a care seeker"""
        isf = isf_accounts.open_isf_account(db_session(), current_principal(), **body)
        return _one(isf)


@blp.route("/isf-accounts/<isf_account_id>")
class IsfAccountItem(MethodView):
    @blp.response(200, IsfAccountSchema)
    @requires(*READERS)
    def get(self, isf_account_id):
        """One ISF account with allocated, spent, committed, returned and balance"""
        isf = isf_accounts.get_isf_account(db_session(), current_principal(), isf_account_id)
        return _one(isf)


@blp.route("/isf-accounts/<isf_account_id>/overdraft")
class Overdraft(MethodView):
    @blp.arguments(OverdraftSchema)
    @blp.response(200, IsfAccountSchema)
    @requires(Kind.AUDITOR)
    def post(self, body, isf_account_id):
        """The council's auditor sets how far below zero this ISF may go (0 withdraws it)"""
        isf = approve_overdraft(
            db_session(),
            current_principal(),
            isf_account_id,
            limit_pence=body["limit_pence"],
            reason=body["reason"],
        )
        return _one(isf)


@blp.route("/isf-accounts/<isf_account_id>/allocations")
class Allocations(MethodView):
    @blp.arguments(AllocationCreateSchema)
    @blp.response(201, JournalEntrySchema)
    @blp.alt_response(409, description="The ISF account is closed (isf_account_closed)")
    @requires(Kind.MANAGER)
    def post(self, body, isf_account_id):
        """Allocate council funding to the ISF for a period"""
        return funding.allocate(db_session(), current_principal(), isf_account_id, **body)


@blp.route("/isf-accounts/<isf_account_id>/returns")
class Returns(MethodView):
    @blp.arguments(ReturnCreateSchema)
    @blp.response(201, IsfAccountSchema)
    @blp.alt_response(409, description="Plan not ended, or invoices still outstanding")
    @requires(Kind.MANAGER)
    def post(self, body, isf_account_id):
        """Return unspent funds to the council (at plan end, or closing the account)"""
        session, principal = db_session(), current_principal()
        funding.return_unspent(session, principal, isf_account_id, **body)
        return _one(isf_accounts.get_isf_account(session, principal, isf_account_id))


@blp.route("/isf-accounts/<isf_account_id>/statement")
class Statement(MethodView):
    @blp.response(200, PostingLineSchema(many=True))
    @requires(*READERS)
    def get(self, isf_account_id):
        """Every movement on the ISF, oldest first"""
        return isf_accounts.statement(db_session(), current_principal(), isf_account_id)


@blp.route("/journal-entries/<entry_id>/reversal")
class Reversal(MethodView):
    @blp.arguments(ReversalSchema)
    @blp.response(201, JournalEntrySchema)
    @blp.alt_response(409, description="Already reversed, or money already spent")
    @requires(Kind.MANAGER)
    def post(self, body, entry_id):
        """Correct an allocation or return with a reversing entry"""
        return funding.reverse(db_session(), current_principal(), entry_id, body.get("memo"))


blp.register_blueprint(payout_blp)
blp.register_blueprint(register_blp)
