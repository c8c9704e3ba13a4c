"""HTTP routes of the matcher: suggestions with explanations, re-match, why-not, batch plans."""

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import NOT_READ, current_principal, read_with_token, requires, token_read
from agency.change_feed import change_feed
from agency.introductions import matchmaking, suggestion_pages
from agency.introductions.match_schemas import (
    JobLinkSchema,
    MatchingStatusSchema,
    MatchPlanSchema,
    SuggestionQuerySchema,
    SuggestionSchema,
    WhyNotSchema,
)
from agency.web import autocommit_session, db_session, web_sessionmaker

blp = Blueprint(
    "matching", __name__, url_prefix="/", description="Suggestions, re-matching and batch plans"
)


def _suggestion_pages() -> suggestion_pages.SuggestionPages:
    return current_app.extensions.setdefault(  # type: ignore[no-any-return]
        "agency.suggestion_pages", suggestion_pages.SuggestionPages()
    )


def _render_suggestions(suggestions) -> bytes:
    # Byte for byte what @blp.response sends: the schema's dump, jsonify'd (only on a miss).
    return current_app.json.response(SuggestionSchema(many=True).dump(suggestions)).get_data()


def _suggestions(request_id: str, status: str, owners: object = False) -> Response:
    # Authorised on every read; the body is reused while its rows are unchanged
    # (agency.introductions.suggestion_pages).
    body = suggestion_pages.suggestions_body(
        autocommit_session,
        current_principal(),
        request_id,
        status,
        _suggestion_pages(),
        _render_suggestions,
        owners,  # type: ignore[arg-type]
        change_feed(current_app),
    )
    return Response(body, status=200, mimetype="application/json")


_STATUSES = frozenset(SuggestionQuerySchema().fields["status"].validate.choices)


def _plain_status() -> str | None:
    """The ``status`` of a query that needs no parsing (none or one valid value), else None."""
    statuses = request.args.getlist("status")
    if len(request.args) != len(statuses) or len(statuses) > 1:
        return None
    status = statuses[0] if statuses else "active"
    return status if status in _STATUSES else None


def _owners_with_token():
    """The request's owners and suggestions' state, read in the bearer token's statement."""
    status, request_id = _plain_status(), (request.view_args or {}).get("request_id")
    bind = web_sessionmaker(current_app).kw["bind"]
    if status is None or request_id is None or bind.dialect.name != "postgresql":
        return None
    return suggestion_pages.OWNERS[status], {"request_id": request_id}


read_with_token(f"{blp.name}.Suggestions", _owners_with_token)  # not activities.Suggestions


@blp.before_request
def answer_suggestions_early() -> Response | None:
    """A GET of suggestions whose query needs no parsing, answered before the view.

    It runs after the app's authentication and input checks (401, 403 by kind first,
    as for every route) and serves what the view would: no ``status`` or one valid
    value. Any other query goes to the view, whose argument parsing answers it (422).
    """
    if request.method != "GET" or (request.endpoint or "").rpartition(".")[2] != "Suggestions":
        return None
    status = _plain_status()
    if status is None:
        return None
    owners = token_read()  # read with a bearer token: no query of our own on a kept body
    return _suggestions(
        (request.view_args or {})["request_id"], status, False if owners is NOT_READ else owners
    )


def _job_link(record):
    return {"id": record.id, "status": record.status.value, "status_url": f"/jobs/{record.id}"}


@blp.route("/care-requests/<request_id>/suggestions")
class Suggestions(MethodView):
    @blp.arguments(SuggestionQuerySchema(), location="query")  # one instance: no per-call build
    @blp.response(200, SuggestionSchema(many=True))
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, query, request_id):
        """Ranked suggestions for a care request, each with its score explanation"""
        # Usually answered by answer_suggestions_early; here for queries it leaves.
        return _suggestions(request_id, query["status"])


@blp.route("/care-requests/<request_id>/rematch")
class Rematch(MethodView):
    @blp.response(202, JobLinkSchema)
    @blp.alt_response(409, description="The request is not open or matching, or not routed")
    @requires(Kind.MANAGER)
    def post(self, request_id):
        """Run the matcher again for this care request"""
        return _job_link(matchmaking.request_rematch(db_session(), current_principal(), request_id))


@blp.route("/care-requests/<request_id>/why-not/<provider_id>")
class WhyNot(MethodView):
    @blp.response(200, WhyNotSchema)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, request_id, provider_id):
        """Which hard constraints keep a provider out of this request's suggestions"""
        return matchmaking.why_not(db_session(), current_principal(), request_id, provider_id)


@blp.route("/care-requests/<request_id>/matching")
class MatchingStatus(MethodView):
    @blp.response(200, MatchingStatusSchema)
    def get(self, request_id):
        """How matching is going for a care request (partners: their seekers' requests)"""
        return matchmaking.matching_status(db_session(), current_principal(), request_id)


@blp.route("/agencies/<agency_id>/match-plans")
class MatchPlans(MethodView):
    @blp.response(202, JobLinkSchema)
    @requires(Kind.MANAGER)
    def post(self, agency_id):
        """Re-plan all open requests of the agency against provider capacity (a proposal only)"""
        return _job_link(matchmaking.request_replan(db_session(), current_principal(), agency_id))


@blp.route("/agencies/<agency_id>/match-plans/latest")
class LatestMatchPlan(MethodView):
    @blp.response(200, MatchPlanSchema)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, agency_id):
        """The latest batch plan of the agency with its figures"""
        return matchmaking.get_plan(db_session(), current_principal(), agency_id, None)


@blp.route("/agencies/<agency_id>/match-plans/<plan_id>")
class MatchPlanItem(MethodView):
    @blp.response(200, MatchPlanSchema)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, agency_id, plan_id):
        """One batch plan of the agency"""
        return matchmaking.get_plan(db_session(), current_principal(), agency_id, plan_id)
