"""HTTP routes: ONS4 answers for an arrangement (partner or manager; with consent)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.outcomes import service
from agency.outcomes.models import MEASURES
from agency.outcomes.schemas import AssessmentInSchema, AssessmentSchema
from agency.web import db_session

blp = Blueprint(
    "outcomes",
    __name__,
    url_prefix="/",
    description="Wellbeing outcomes: the ONS4 questions at the start of care and at reviews "
    "(ONS personal well-being, Open Government Licence v3.0)",
)
WRITERS = (Kind.PARTNER, Kind.MANAGER)


@blp.route("/arrangements/<arrangement_id>/wellbeing")
class Wellbeing(MethodView):
    @blp.response(200, AssessmentSchema(many=True))
    @blp.alt_response(403, description="Providers and auditors (auditors see the report only)")
    @blp.alt_response(404, description="No such arrangement visible to you")
    @requires(*WRITERS)
    def get(self, arrangement_id):
        """The arrangement's ONS4 answers, oldest first"""
        return service.assessments_of(db_session(), current_principal(), arrangement_id)

    @blp.arguments(AssessmentInSchema)
    @blp.response(201, AssessmentSchema)
    @blp.alt_response(403, description="Providers and auditors may not record answers")
    @blp.alt_response(404, description="No such arrangement visible to you")
    @blp.alt_response(409, description="No consent to 'outcomes', seeker erased, or 2nd baseline")
    @blp.alt_response(422, description="Invalid answers (each 0-10) or none given")
    @requires(*WRITERS)
    def post(self, body, arrangement_id):
        """Record ONS4 answers at the start of an arrangement or at a review"""
        return service.record_assessment(
            db_session(),
            current_principal(),
            arrangement_id,
            occasion=body["occasion"],
            assessed_on=body["assessed_on"],
            answers={m: body.get(m) for m in MEASURES},
        )
