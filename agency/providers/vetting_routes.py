"""HTTP routes: applications to agencies, vetting decisions, council ISF approval."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.providers import vetting
from agency.providers.route_common import READERS, refusals_of
from agency.providers.vetting_schemas import (
    ApplySchema,
    DecisionSchema,
    IsfApprovalInSchema,
    IsfApprovalSchema,
    ListingDetailSchema,
    ListingQuerySchema,
    ListingSchema,
    ResubmitSchema,
)
from agency.web import db_session

# Nested under the providers blueprint (agency.providers.routes): its /providers prefix and tag.
blp = Blueprint("vetting", __name__)
refusals = refusals_of(blp)


@blp.route("/<provider_id>/listings")
class Applications(MethodView):
    @blp.arguments(ApplySchema)
    @blp.response(201, ListingDetailSchema)
    @blp.alt_response(409, description="Already applied to this agency (already_applied)")
    @refusals
    @requires(Kind.PROVIDER)
    def post(self, body, provider_id):
        """Apply to an agency to be vetted and listed"""
        return vetting.apply_to_agency(
            db_session(), current_principal(), provider_id, body["agency_id"]
        )


@blp.route("/listings")
class Listings(MethodView):
    @blp.arguments(ListingQuerySchema, location="query")
    @blp.response(200, ListingSchema(many=True))
    @blp.paginate()
    @refusals
    @requires(*READERS)
    def get(self, query, pagination_parameters):
        """Listings: a manager's agency's applications, a provider's own, an auditor's council's"""
        stmt = vetting.listings_query(current_principal(), **query)
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/listings/<listing_id>")
class ListingItem(MethodView):
    @blp.response(200, ListingDetailSchema)
    @refusals
    @requires(*READERS)
    def get(self, listing_id):
        """One listing with every vetting decision"""
        return vetting.get_listing(db_session(), current_principal(), listing_id)


@blp.route("/listings/<listing_id>/decisions")
class Decisions(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(201, ListingDetailSchema)
    @blp.alt_response(409, description="Not possible from the current state (illegal_transition)")
    @refusals
    @requires(Kind.MANAGER)
    def post(self, body, listing_id):
        """Decide on a listing: approve, request_info, reject, suspend or reinstate"""
        return vetting.decide(
            db_session(), current_principal(), listing_id, body["decision"], body["reason"]
        )


@blp.route("/listings/<listing_id>/resubmit")
class Resubmit(MethodView):
    @blp.arguments(ResubmitSchema)
    @blp.response(201, ListingDetailSchema)
    @blp.alt_response(409, description="No more information was requested (illegal_transition)")
    @refusals
    @requires(Kind.PROVIDER)
    def post(self, body, listing_id):
        """Send an application back for vetting after more information was requested"""
        return vetting.resubmit(db_session(), current_principal(), listing_id, body["note"])


@blp.route("/<provider_id>/isf-approval")
class IsfApproval(MethodView):
    @blp.response(200, IsfApprovalSchema(many=True))
    @refusals
    @requires(*READERS)
    def get(self, provider_id):
        """ISF approved provider status, per council"""
        return vetting.isf_approvals(db_session(), current_principal(), provider_id)

    @blp.arguments(IsfApprovalInSchema)
    @blp.response(200, IsfApprovalSchema)
    @refusals
    @requires(Kind.AUDITOR)
    def post(self, body, provider_id):
        """Record the council's decision on ISF approved provider status (its auditors)"""
        return vetting.record_isf_approval(db_session(), current_principal(), provider_id, **body)
