"""HTTP routes: arrangements, their versions, pausing, resuming and ending them."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.introductions import arrangements
from agency.introductions.models import ArrangementStatus
from agency.introductions.schemas import (
    ArrangementEndSchema,
    ArrangementQuerySchema,
    ArrangementSchema,
    ArrangementVersionCreateSchema,
    DecisionReasonSchema,
)
from agency.pagination import page_of
from agency.web import db_session

blp = Blueprint("arrangements", __name__, url_prefix="/", description="Agreed care and its terms")
PARTIES = (Kind.MANAGER, Kind.PROVIDER, Kind.PARTNER)


@blp.route("/arrangements")
class Arrangements(MethodView):
    @blp.arguments(ArrangementQuerySchema, location="query")
    @blp.response(200, ArrangementSchema(many=True))
    @blp.paginate()
    @requires(*PARTIES, Kind.AUDITOR)
    def get(self, args, pagination_parameters):
        """Arrangements you may see (auditors: their council's, read-only)"""
        stmt = arrangements.arrangements_for(current_principal(), args)
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/arrangements/<arrangement_id>")
class ArrangementItem(MethodView):
    @blp.response(200, ArrangementSchema)
    def get(self, arrangement_id):
        """One arrangement, with every version of its terms"""
        return arrangements.get_arrangement(db_session(), current_principal(), arrangement_id)


def _change(arrangement_id, target, reason, **options):
    return arrangements.change_status(
        db_session(), current_principal(), arrangement_id, target, reason, **options
    )


@blp.route("/arrangements/<arrangement_id>/pause")
class Pause(MethodView):
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, ArrangementSchema)
    @requires(*PARTIES)
    def post(self, body, arrangement_id):
        """Pause an active arrangement (a hospital stay, a holiday)"""
        return _change(arrangement_id, ArrangementStatus.PAUSED, body["reason"])


@blp.route("/arrangements/<arrangement_id>/resume")
class Resume(MethodView):
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, ArrangementSchema)
    @requires(*PARTIES)
    def post(self, body, arrangement_id):
        """Resume a paused arrangement"""
        return _change(arrangement_id, ArrangementStatus.ACTIVE, body["reason"])


@blp.route("/arrangements/<arrangement_id>/end")
class End(MethodView):
    @blp.arguments(ArrangementEndSchema)
    @blp.response(200, ArrangementSchema)
    @requires(*PARTIES)
    def post(self, body, arrangement_id):
        """End an arrangement; optionally reopen the care request for a new match"""
        return _change(
            arrangement_id,
            ArrangementStatus.ENDED,
            body["reason"],
            reopen_request=body["reopen_request"],
        )


@blp.route("/arrangements/<arrangement_id>/versions")
class Versions(MethodView):
    @blp.arguments(ArrangementVersionCreateSchema)
    @blp.response(201, ArrangementSchema)
    @blp.alt_response(409, description="illegal_transition: the arrangement has ended")
    @requires(Kind.MANAGER)
    def post(self, body, arrangement_id):
        """Change the terms from a date (or attach the ISF account): a new version"""
        return arrangements.new_version(db_session(), current_principal(), arrangement_id, body)
