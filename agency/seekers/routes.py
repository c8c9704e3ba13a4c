"""HTTP routes: care seekers and their consent.

The domain's blueprint: care requests (``request_routes``) are a blueprint nested under it.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.seekers import service
from agency.seekers.models import CareSeeker
from agency.seekers.request_routes import blp as requests_blp
from agency.seekers.schemas import (
    ConsentInSchema,
    ConsentSchema,
    SeekerChangeSchema,
    SeekerCreateSchema,
    SeekerQuerySchema,
    SeekerSchema,
    WithdrawConsentSchema,
)
from agency.web import db_session

blp = Blueprint(
    "seekers", __name__, url_prefix="/", description="Care seekers, consent and care requests"
)


def seeker_view(seeker: CareSeeker) -> dict[str, Any]:
    """A seeker as the API shows it: the current consent, and nulls once erased."""
    consent = service.current_consent(seeker)
    return {
        **{name: getattr(seeker, name) for name in SeekerSchema().fields if hasattr(seeker, name)},
        "consent": consent,
        "has_consent": consent is not None,
        "erased": seeker.erased_at is not None,
    }


@blp.route("/care-seekers")
class CareSeekers(MethodView):
    @blp.arguments(SeekerQuerySchema, location="query")
    @blp.response(200, SeekerSchema(many=True))
    @blp.paginate()
    @requires(Kind.PARTNER)
    def get(self, query, pagination_parameters):
        """List the calling partner's care seekers"""
        stmt = service.seekers_of_partner(current_principal(), query.get("reference"))
        return [seeker_view(s) for s in page_of(db_session(), stmt, pagination_parameters)]

    @blp.arguments(SeekerCreateSchema)
    @blp.response(201, SeekerSchema)
    @blp.alt_response(409, description="reference_taken: the reference is already registered")
    @requires(Kind.PARTNER)
    def post(self, body):
        """Register a care seeker, with their consent"""
        seeker = service.register_seeker(db_session(), current_principal(), **body)
        return seeker_view(seeker), 201, {"Location": f"/care-seekers/{seeker.id}"}


@blp.route("/care-seekers/<seeker_id>")
class CareSeekerItem(MethodView):
    @blp.response(200, SeekerSchema)
    @blp.alt_response(404, description="No such care seeker, or not yours")
    def get(self, seeker_id):
        """Read a care seeker (its partner, or managers of an agency holding its requests)"""
        return seeker_view(service.get_seeker(db_session(), current_principal(), seeker_id))

    @blp.arguments(SeekerChangeSchema)
    @blp.response(200, SeekerSchema)
    @blp.alt_response(409, description="seeker_erased")
    def patch(self, body, seeker_id):
        """Change a care seeker's name, contact preference or postcode"""
        seeker = service.change_seeker(db_session(), current_principal(), seeker_id, body)
        return seeker_view(seeker)


@blp.route("/care-seekers/<seeker_id>/consents")
class Consents(MethodView):
    @blp.arguments(ConsentInSchema)
    @blp.response(201, ConsentSchema)
    @blp.alt_response(409, description="seeker_erased")
    def post(self, body, seeker_id):
        """Record a new version of a care seeker's consent"""
        return service.record_consent(db_session(), current_principal(), seeker_id, **body)


@blp.route("/care-seekers/<seeker_id>/consents/withdraw")
class ConsentWithdrawal(MethodView):
    @blp.arguments(WithdrawConsentSchema)
    @blp.response(200, SeekerSchema)
    @blp.alt_response(409, description="seeker_erased")
    def post(self, body, seeker_id):
        """Withdraw all of a care seeker's consent (no new care requests until given again)"""
        seeker = service.withdraw_consent(
            db_session(), current_principal(), seeker_id, body.get("withdrawn_at")
        )
        return seeker_view(seeker)


@blp.route("/care-seekers/<seeker_id>/erase")
class Erasure(MethodView):
    @blp.response(200, SeekerSchema)
    @blp.alt_response(409, description="seeker_erased: already erased")
    def post(self, seeker_id):
        """Erase a care seeker's personal data at their request (ids and money records stay)"""
        return seeker_view(service.erase_seeker(db_session(), current_principal(), seeker_id))


blp.register_blueprint(requests_blp)
