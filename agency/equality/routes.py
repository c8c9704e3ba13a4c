"""HTTP route: equality monitoring answers, write-only (no endpoint reads them back)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.equality import service
from agency.equality.schemas import MonitoringInSchema
from agency.web import db_session

blp = Blueprint(
    "equality",
    __name__,
    url_prefix="/",
    description="Equal access: optional equality monitoring, held apart and write-only",
)


@blp.route("/care-seekers/<seeker_id>/equality-monitoring")
class Monitoring(MethodView):
    @blp.arguments(MonitoringInSchema)
    @blp.response(204)
    @blp.alt_response(403, description="Only the seeker's partner client records the answers")
    @blp.alt_response(404, description="No such care seeker visible to you")
    @blp.alt_response(409, description="No consent to 'equality_monitoring', or seeker erased")
    @blp.alt_response(422, description="An answer outside the listed options")
    @requires(Kind.PARTNER)
    def put(self, body, seeker_id):
        """Record the seeker's equality monitoring answers (replacing any before; write-only)"""
        service.record_monitoring(db_session(), current_principal(), seeker_id, body)
