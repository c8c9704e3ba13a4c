"""HTTP routes: visits, timesheets, and the invoices approved timesheets become.

The domain's blueprint: continuity (planned visits, rotas, cover; ``continuity_routes``) and
invoices (``invoice_routes``) are blueprints nested under it, sharing its tag.
"""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.visits import bulk_approval, timesheets, visits
from agency.visits.continuity_routes import blp as continuity_blp
from agency.visits.invoice_routes import blp as invoices_blp
from agency.visits.route_common import READERS
from agency.visits.schemas import (
    DisputeSchema,
    QueryReasonSchema,
    TimesheetApprovalsResultSchema,
    TimesheetApprovalsSchema,
    TimesheetCreateSchema,
    TimesheetQuerySchema,
    TimesheetSchema,
    VisitCreateSchema,
    VisitQuerySchema,
    VisitSchema,
    VisitUpdateSchema,
)
from agency.web import db_session

blp = Blueprint("visits", __name__, url_prefix="/", description="Visits, timesheets and invoices")


@blp.route("/arrangements/<arrangement_id>/visits")
class ArrangementVisits(MethodView):
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate()
    @requires(*READERS)
    def get(self, args, arrangement_id, pagination_parameters):
        """The visits logged against an arrangement, oldest first"""
        session = db_session()
        stmt = visits.visits_of(session, current_principal(), arrangement_id, args)
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(409, description="Arrangement paused or ended (arrangement_not_active)")
    @requires(Kind.PROVIDER)
    def post(self, body, arrangement_id):
        """Log a visit (flagged when outside the agreed schedule or services)"""
        return visits.log_visit(db_session(), current_principal(), arrangement_id, body)


@blp.route("/visits/<visit_id>")
class VisitItem(MethodView):
    @blp.response(200, VisitSchema)
    @requires(*READERS)
    def get(self, visit_id):
        """One visit"""
        return visits.get_visit(db_session(), current_principal(), visit_id)

    @blp.arguments(VisitUpdateSchema(partial=True))
    @blp.response(200, VisitSchema)
    @blp.alt_response(409, description="On a submitted or approved timesheet (visit_locked)")
    @requires(Kind.PROVIDER)
    def patch(self, body, visit_id):
        """Correct a visit (not while its timesheet is submitted or approved)"""
        return visits.update_visit(db_session(), current_principal(), visit_id, body)

    @blp.response(204)
    @blp.alt_response(409, description="On a submitted or approved timesheet (visit_locked)")
    @requires(Kind.PROVIDER)
    def delete(self, visit_id):
        """Delete a visit logged in error (not while its timesheet is submitted or approved)"""
        visits.delete_visit(db_session(), current_principal(), visit_id)


@blp.route("/visits/<visit_id>/confirm")
class ConfirmVisit(MethodView):
    @blp.response(200, VisitSchema)
    @blp.alt_response(409, description="Illegal move or already invoiced")
    @requires(Kind.PARTNER)
    def post(self, visit_id):
        """The seeker's partner client confirms the visit happened as logged"""
        return visits.confirm_visit(db_session(), current_principal(), visit_id)


@blp.route("/visits/<visit_id>/dispute")
class DisputeVisit(MethodView):
    @blp.arguments(DisputeSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(409, description="Illegal move or already invoiced")
    @requires(Kind.PARTNER)
    def post(self, body, visit_id):
        """The seeker's partner client disputes the visit (blocks the timesheet's approval)"""
        return visits.dispute_visit(db_session(), current_principal(), visit_id, body["reason"])


@blp.route("/arrangements/<arrangement_id>/timesheets")
class ArrangementTimesheets(MethodView):
    @blp.arguments(TimesheetQuerySchema, location="query")
    @blp.response(200, TimesheetSchema(many=True))
    @blp.paginate()
    @requires(*READERS)
    def get(self, args, arrangement_id, pagination_parameters):
        """The timesheets of an arrangement, latest period first"""
        session = db_session()
        stmt = timesheets.timesheets_of(session, current_principal(), arrangement_id, args)
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(TimesheetCreateSchema)
    @blp.response(201, TimesheetSchema)
    @blp.alt_response(409, description="No visits to submit in the period (no_visits)")
    @requires(Kind.PROVIDER)
    def post(self, body, arrangement_id):
        """Submit a timesheet of the period's visits not yet on one (at most 31 days)"""
        return timesheets.submit_timesheet(
            db_session(),
            current_principal(),
            arrangement_id,
            body["period_start"],
            body["period_end"],
        )


@blp.route("/timesheets/<timesheet_id>")
class TimesheetItem(MethodView):
    @blp.response(200, TimesheetSchema)
    @requires(*READERS)
    def get(self, timesheet_id):
        """One timesheet with its visits"""
        return timesheets.get_timesheet(db_session(), current_principal(), timesheet_id)


@blp.route("/timesheets/<timesheet_id>/approve")
class ApproveTimesheet(MethodView):
    @blp.response(200, TimesheetSchema)
    @blp.alt_response(
        409,
        description="illegal_transition, visit_disputed, service_not_agreed, "
        "insufficient_funds, no_isf_account (an ISF-funded arrangement with no ISF account: "
        "open the seeker's ISF account, which links it, or attach one with "
        "POST /arrangements/{id}/versions)",
    )
    @requires(Kind.MANAGER)
    def post(self, timesheet_id):
        """Approve a submitted timesheet: writes its invoice (and charges the ISF) at once"""
        return timesheets.approve_timesheet(db_session(), current_principal(), timesheet_id)


@blp.route("/timesheets/approvals")
class TimesheetApprovals(MethodView):
    @blp.arguments(TimesheetApprovalsSchema)
    @blp.response(200, TimesheetApprovalsResultSchema)
    @requires(Kind.MANAGER)
    def post(self, body):
        """Approve many submitted timesheets at once; each is invoiced or refused on its own"""
        return bulk_approval.approve_timesheets(
            db_session(), current_principal(), body["timesheet_ids"]
        )


@blp.route("/timesheets/<timesheet_id>/query")
class QueryTimesheet(MethodView):
    @blp.arguments(QueryReasonSchema)
    @blp.response(200, TimesheetSchema)
    @blp.alt_response(409, description="Not submitted (illegal_transition)")
    @requires(Kind.MANAGER)
    def post(self, body, timesheet_id):
        """Send a submitted timesheet back to the provider with a reason"""
        return timesheets.query_timesheet(
            db_session(), current_principal(), timesheet_id, body["reason"]
        )


@blp.route("/timesheets/<timesheet_id>/resubmit")
class ResubmitTimesheet(MethodView):
    @blp.response(200, TimesheetSchema)
    @blp.alt_response(409, description="Not queried (illegal_transition)")
    @requires(Kind.PROVIDER)
    def post(self, timesheet_id):
        """Resubmit a corrected, queried timesheet"""
        return timesheets.resubmit_timesheet(db_session(), current_principal(), timesheet_id)


blp.register_blueprint(continuity_blp)
blp.register_blueprint(invoices_blp)
