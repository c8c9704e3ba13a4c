"""HTTP routes: activities, suggestions for a seeker, referrals and attendance."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.activities import service
from agency.activities.schemas import (
    ActivityInSchema,
    ActivitySchema,
    ActivitySuggestionSchema,
    AttendanceInSchema,
    AttendanceSchema,
    ReferralInSchema,
    ReferralSchema,
    SuggestionQuerySchema,
)
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.web import db_session

blp = Blueprint(
    "activities",
    __name__,
    url_prefix="/",
    description="Community activities: published by agencies, suggested, referred, attended",
)


@blp.route("/activities")
class Activities(MethodView):
    @blp.response(200, ActivitySchema(many=True))
    @blp.paginate()
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, pagination_parameters):
        """Activities you may see (managers: your agency's; auditors: your council's)"""
        stmt = service.activities_for(current_principal())
        return page_of(db_session(), stmt, pagination_parameters)

    @blp.arguments(ActivityInSchema)
    @blp.response(201, ActivitySchema)
    @blp.alt_response(403, description="Only an agency's managers publish activities")
    @blp.alt_response(422, description="Invalid field (named), unknown outcode or interest")
    @requires(Kind.MANAGER)
    def post(self, body):
        """Publish an activity for your agency"""
        return service.publish_activity(db_session(), current_principal(), body)


@blp.route("/activities/<activity_id>")
class ActivityItem(MethodView):
    @blp.response(200, ActivitySchema)
    @blp.alt_response(404, description="No such activity visible to you")
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, activity_id):
        """One activity"""
        return service.get_activity(db_session(), current_principal(), activity_id)


@blp.route("/care-seekers/<seeker_id>/activity-suggestions")
class Suggestions(MethodView):
    @blp.arguments(SuggestionQuerySchema, location="query")
    @blp.response(200, ActivitySuggestionSchema(many=True))
    @blp.alt_response(403, description="Only the seeker's partner client asks")
    @blp.alt_response(404, description="No such care seeker visible to you")
    @blp.alt_response(409, description="No consent to 'community', or the seeker is erased")
    @requires(Kind.PARTNER)
    def get(self, args, seeker_id):
        """Activities near the seeker, at times that fit their care, on their interests"""
        return service.suggestions_for(
            db_session(),
            current_principal(),
            seeker_id,
            interests=args["interests"],
            max_km=args["max_km"],
        )


@blp.route("/activities/<activity_id>/referrals")
class Referrals(MethodView):
    @blp.arguments(ReferralInSchema)
    @blp.response(201, ReferralSchema)
    @blp.alt_response(403, description="Only the agency's managers refer")
    @blp.alt_response(404, description="No such activity or care seeker visible to you")
    @blp.alt_response(409, description="No consent to 'community', already referred, or full")
    @requires(Kind.MANAGER)
    def post(self, body, activity_id):
        """Refer a care seeker to the activity"""
        return service.refer(db_session(), current_principal(), activity_id, body["seeker_id"])


@blp.route("/activity-referrals/<referral_id>/attendance")
class Attendance(MethodView):
    @blp.arguments(AttendanceInSchema)
    @blp.response(201, AttendanceSchema)
    @blp.alt_response(403, description="Only the agency's managers record attendance")
    @blp.alt_response(404, description="No such referral visible to you")
    @blp.alt_response(409, description="This session's attendance is already recorded")
    @blp.alt_response(422, description="Not a day the activity runs, or in the future")
    @requires(Kind.MANAGER)
    def post(self, body, referral_id):
        """Record whether the referred seeker came to one session (yes or no)"""
        return service.record_attendance(
            db_session(),
            current_principal(),
            referral_id,
            session_date=body["session_date"],
            attended=body["attended"],
        )
