"""Job status: what a client polls after an action that runs in the background."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Action, load
from agency.auth import current_principal
from agency.jobs.models import JobRecord
from agency.jobs.schemas import JobSchema
from agency.web import db_session

blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="Background job status")


@blp.route("/<job_id>")
class JobItem(MethodView):
    @blp.response(200, JobSchema)
    @blp.alt_response(404, description="No such job, or not yours")
    def get(self, job_id):
        """Status, progress and result link of a background job"""
        return load(db_session(), current_principal(), JobRecord, job_id, Action.READ)
