"""HTTP routes: compliance documents, their verification, and a provider's eligibility."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.providers import compliance_documents, eligibility
from agency.providers.compliance_schemas import (
    ComplianceItemChangesSchema,
    ComplianceItemSchema,
    EligibilityQuerySchema,
    EligibilitySchema,
    RejectSchema,
    VerifySchema,
)
from agency.providers.route_common import READERS, refusals_of
from agency.providers.service import london_today
from agency.web import db_session

# Nested under the providers blueprint (agency.providers.routes): its /providers prefix and tag.
blp = Blueprint("compliance", __name__)
refusals = refusals_of(blp)


@blp.route("/<provider_id>/compliance")
class ComplianceItems(MethodView):
    @blp.response(200, ComplianceItemSchema(many=True))
    @refusals
    @requires(*READERS)
    def get(self, provider_id):
        """The provider's compliance documents and their status"""
        return compliance_documents.list_items(db_session(), current_principal(), provider_id)

    @blp.arguments(ComplianceItemSchema)
    @blp.response(201, ComplianceItemSchema)
    @refusals
    @requires(Kind.PROVIDER)
    def post(self, body, provider_id):
        """Add a DBS check, insurance, training record or CQC registration (pending)"""
        return compliance_documents.add_item(db_session(), current_principal(), provider_id, body)


@blp.route("/<provider_id>/compliance/<item_id>")
class ComplianceItemView(MethodView):
    @blp.arguments(ComplianceItemChangesSchema(partial=True))
    @blp.response(200, ComplianceItemSchema)
    @refusals
    @requires(Kind.PROVIDER)
    def patch(self, body, provider_id, item_id):
        """Correct or renew a document; it goes back to pending"""
        return compliance_documents.update_item(
            db_session(), current_principal(), provider_id, item_id, body
        )


@blp.route("/<provider_id>/compliance/<item_id>/verify")
class VerifyItem(MethodView):
    @blp.arguments(VerifySchema)
    @blp.response(200, ComplianceItemSchema)
    @blp.alt_response(409, description="The item is not pending (compliance_item_not_pending)")
    @refusals
    @requires(Kind.MANAGER)
    def post(self, body, provider_id, item_id):
        """Verify a pending document (a manager of an agency the provider applied to)"""
        return compliance_documents.verify_item(
            db_session(), current_principal(), provider_id, item_id, body["note"]
        )


@blp.route("/<provider_id>/compliance/<item_id>/reject")
class RejectItem(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, ComplianceItemSchema)
    @blp.alt_response(409, description="The item is already rejected")
    @refusals
    @requires(Kind.MANAGER)
    def post(self, body, provider_id, item_id):
        """Reject a document, with the reason (a manager of an agency the provider applied to)"""
        return compliance_documents.reject_item(
            db_session(), current_principal(), provider_id, item_id, body["reason"]
        )


@blp.route("/<provider_id>/eligibility")
class Eligibility(MethodView):
    @blp.arguments(EligibilityQuerySchema, location="query")
    @blp.response(200, EligibilitySchema)
    @refusals
    @requires(*READERS)
    def get(self, query, provider_id):
        """Whether the provider can be matched on a date, and every reason why not"""
        result = eligibility.eligibility(
            db_session(),
            current_principal(),
            provider_id,
            query.get("on") or london_today(),
            query.get("agency_id"),
        )
        return {**vars(result), "matchable": result.matchable}
