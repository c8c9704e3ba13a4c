"""HTTP routes: read the audit log (never write it)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.audit import service
from agency.audit.schemas import AuditEntrySchema, AuditQuerySchema
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.web import db_session

blp = Blueprint("audit", __name__, url_prefix="/", description="The append-only audit trail")


@blp.route("/audit-log")
class AuditLog(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate()
    @requires(Kind.MANAGER, Kind.AUDITOR, Kind.ADMIN)
    def get(self, args, pagination_parameters):
        """Audit entries in chain order: a manager's agency, an auditor's council, all for admins"""
        stmt = service.entries_for(current_principal(), args.get("object_id"), args.get("action"))
        return page_of(db_session(), stmt, pagination_parameters)
