"""HTTP routes: care requests (registered on the seekers blueprint)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind, Principal
from agency.auth import NOT_READ, api_key_read, current_principal, read_with_api_key, requires
from agency.errors import InvalidInput
from agency.pagination import page_of
from agency.privacy import pseudonym
from agency.seekers import requests_service as service
from agency.seekers.models import CareRequest
from agency.seekers.request_schemas import (
    CareRequestChangeSchema,
    CareRequestCreateSchema,
    CareRequestQuerySchema,
    CareRequestSchema,
    ReasonSchema,
)
from agency.seekers.service import requesting_seeker_read
from agency.web import db_session

# Nested under the seekers blueprint (agency.seekers.routes), whose tag it shares.
blp = Blueprint("care_requests", __name__)

_FIELDS = tuple(CareRequestSchema().fields)
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The version (or ETag) you last read; a stale one is refused with 409",
    "example": '"3"',
}


def request_view(care_request: CareRequest, principal: Principal) -> dict[str, Any]:
    """A care request as ``principal`` may see it: auditors get a pseudonym and no notes."""
    view = {name: getattr(care_request, name, None) for name in _FIELDS}
    view["routed"] = care_request.agency_id is not None
    job_id = care_request.last_match_job_id
    view["job"] = {"id": job_id, "status_url": f"/jobs/{job_id}"} if job_id else None
    if principal.kind is Kind.AUDITOR:
        secret_key = current_app.extensions["agency"].settings.secret_key
        view["seeker_id"] = None
        view["seeker_pseudonym"] = pseudonym(secret_key, care_request.seeker_id)
        view["notes"] = None
    return view


def _if_match() -> int | None:
    """The version in an If-Match header: 3, "3" or W/"3"."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if text == "*":  # RFC 9110: any current version will do
        return None
    if not text.isdigit():
        raise InvalidInput(errors={"If-Match": ["Send the version number you last read."]})
    return int(text)


def _created(
    care_request: CareRequest, job: object | None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    if job is not None and current_app.extensions["agency"].settings.inline_jobs:
        db_session().refresh(care_request)  # the inline match job has already moved it
    view = request_view(care_request, current_principal())
    return view, 201, {"Location": f"/care-requests/{care_request.id}"}


@blp.route("/care-seekers/<seeker_id>/care-requests")
class SeekerCareRequests(MethodView):
    @blp.arguments(CareRequestCreateSchema())  # one instance: not rebuilt per request
    @blp.response(201, CareRequestSchema)
    @blp.alt_response(409, description="consent_required or seeker_erased")
    def post(self, body, seeker_id):
        """Ask for care for a seeker: stored, routed to an agency and queued for matching"""
        read = api_key_read()
        care_request, job = service.create_care_request(
            db_session(),
            current_principal(),
            seeker_id,
            body,
            None if read is NOT_READ else read,
        )
        return _created(care_request, job)


def _seeker_with_api_key() -> tuple[Any, dict[str, Any]] | None:
    """A partner's new request reads its seeker (consent, routing) in the key's round trip,
    when the body gives no postcode (the seeker's own outcode routes it)."""
    if request.method != "POST" or not request.view_args:
        return None
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict) or raw.get("postcode"):
        return None
    return requesting_seeker_read(str(request.view_args["seeker_id"]))


read_with_api_key("seekers.care_requests.SeekerCareRequests", _seeker_with_api_key)


@blp.route("/care-requests")
class CareRequests(MethodView):
    @blp.arguments(CareRequestQuerySchema, location="query")
    @blp.response(200, CareRequestSchema(many=True))
    @blp.paginate()
    @requires(Kind.PARTNER, Kind.MANAGER, Kind.AUDITOR)
    def get(self, query, pagination_parameters):
        """List care requests: a partner's own, a manager's agency's, an auditor's council's"""
        principal = current_principal()
        stmt = service.care_requests_for(principal, query)
        page = page_of(db_session(), stmt, pagination_parameters)
        return [request_view(r, principal) for r in page]


@blp.route("/care-requests/<request_id>")
class CareRequestItem(MethodView):
    @blp.response(200, CareRequestSchema)
    @blp.alt_response(404, description="No such care request, or not yours")
    def get(self, request_id):
        """Read a care request"""
        principal = current_principal()
        care_request = service.get_care_request(db_session(), principal, request_id)
        return request_view(care_request, principal), 200, {"ETag": f'"{care_request.version}"'}

    @blp.arguments(CareRequestChangeSchema)
    @blp.response(200, CareRequestSchema)
    @blp.alt_response(409, description="version_conflict, illegal_transition or seeker_erased")
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body, request_id):
        """Change an open or matching care request (If-Match or version guards the change)"""
        header_version = _if_match()
        expected = body.pop("version", None) if header_version is None else header_version
        body.pop("version", None)
        principal = current_principal()
        care_request, job = service.change_care_request(
            db_session(), principal, request_id, body, expected
        )
        if job is not None:
            db_session().refresh(care_request)
        headers = {"ETag": f'"{care_request.version}"'}
        return request_view(care_request, principal), 200, headers


@blp.route("/care-requests/<request_id>/withdraw")
class Withdrawal(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CareRequestSchema)
    @blp.alt_response(409, description="illegal_transition: already closed or withdrawn")
    def post(self, body, request_id):
        """Withdraw a care request (the partner, for the seeker)"""
        principal = current_principal()
        care_request = service.withdraw_care_request(
            db_session(), principal, request_id, body["reason"]
        )
        return request_view(care_request, principal)


@blp.route("/care-requests/<request_id>/close")
class Closure(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CareRequestSchema)
    @blp.alt_response(409, description="illegal_transition: only a matched request closes")
    def post(self, body, request_id):
        """Close a matched care request (the agency's manager)"""
        principal = current_principal()
        care_request = service.close_care_request(
            db_session(), principal, request_id, body["reason"]
        )
        return request_view(care_request, principal)
