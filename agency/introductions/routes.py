"""HTTP routes: approving introductions, answering them, listing them; rejecting suggestions."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Action, Kind, load
from agency.auth import current_principal, requires
from agency.introductions import approval, service
from agency.introductions.match_schemas import SuggestionSchema
from agency.introductions.models import Introduction
from agency.introductions.schemas import (
    DecisionReasonSchema,
    IntroductionApproveSchema,
    IntroductionConfirmSchema,
    IntroductionQuerySchema,
    IntroductionSchema,
)
from agency.pagination import page_of
from agency.web import db_session

blp = Blueprint(
    "introductions",
    __name__,
    url_prefix="/",
    description="Introductions between seekers and providers",
)


@blp.route("/care-requests/<care_request_id>/introductions")
class RequestIntroductions(MethodView):
    @blp.arguments(IntroductionApproveSchema)
    @blp.response(201, IntroductionSchema)
    @blp.alt_response(
        409,
        description="illegal_transition, introduction_exists, constraint_failed, version_conflict",
    )
    @requires(Kind.MANAGER)
    def post(self, body, care_request_id):
        """Approve an introduction of a provider to a care request (constraints re-checked now)"""
        return approval.approve_introduction(
            db_session(), current_principal(), care_request_id, **body
        )


@blp.route("/suggestions/<suggestion_id>/reject")
class RejectSuggestion(MethodView):
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, SuggestionSchema)
    @requires(Kind.MANAGER)
    def post(self, body, suggestion_id):
        """Set a suggestion aside, with a reason"""
        return approval.reject_suggestion(
            db_session(), current_principal(), suggestion_id, body["reason"]
        )


@blp.route("/introductions")
class Introductions(MethodView):
    @blp.arguments(IntroductionQuerySchema, location="query")
    @blp.response(200, IntroductionSchema(many=True))
    @blp.paginate()
    @requires(Kind.MANAGER, Kind.PROVIDER, Kind.PARTNER, Kind.AUDITOR)
    def get(self, args, pagination_parameters):
        """Introductions you may see, filtered by status, care request or provider"""
        stmt = service.introductions_for(current_principal(), args)
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/introductions/<introduction_id>")
class IntroductionItem(MethodView):
    @blp.response(200, IntroductionSchema)
    def get(self, introduction_id):
        """One introduction"""
        return load(db_session(), current_principal(), Introduction, introduction_id, Action.READ)


@blp.route("/introductions/<introduction_id>/accept")
class Accept(MethodView):
    @blp.response(200, IntroductionSchema)
    @requires(Kind.PROVIDER)
    def post(self, introduction_id):
        """The provider accepts the introduction (before respond_by)"""
        return service.provider_answer(
            db_session(), current_principal(), introduction_id, accept=True
        )


@blp.route("/introductions/<introduction_id>/decline")
class Decline(MethodView):
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, IntroductionSchema)
    @requires(Kind.PROVIDER, Kind.PARTNER)
    def post(self, body, introduction_id):
        """The provider, or the seeker through its partner, declines, with a reason"""
        return service.decline(db_session(), current_principal(), introduction_id, body["reason"])


@blp.route("/introductions/<introduction_id>/confirm")
class Confirm(MethodView):
    @blp.arguments(IntroductionConfirmSchema)
    @blp.response(200, IntroductionSchema)
    @requires(Kind.PARTNER)
    def post(self, body, introduction_id):
        """The seeker, through its partner, confirms: the arrangement starts"""
        return service.seeker_answer(
            db_session(), current_principal(), introduction_id, confirm=True, **body
        )


@blp.route("/introductions/<introduction_id>/withdraw")
class Withdraw(MethodView):
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, IntroductionSchema)
    @requires(Kind.MANAGER)
    def post(self, body, introduction_id):
        """The manager withdraws a pending introduction"""
        return service.withdraw(db_session(), current_principal(), introduction_id, body["reason"])
