"""HTTP routes: planned visits, rotas (JSON and iCalendar), cancelling, the missed list.

Registered on the visits blueprint (imported at the bottom of ``agency.visits.routes``).
Auditors have no access: planned visits are operational, not spending records.
"""

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.db import utcnow
from agency.pagination import page_of
from agency.visits import continuity, cover, feedback
from agency.visits.continuity_schemas import (
    BackupProviderSchema,
    CancelPlannedVisitSchema,
    CoverOfferSchema,
    CoverSuggestionSchema,
    CoverVisitSchema,
    FeedbackCreateSchema,
    FeedbackQuerySchema,
    FeedbackSchema,
    PlannedVisitQuerySchema,
    PlannedVisitSchema,
    RatingSummarySchema,
    RotaFeedSchema,
    RotaQuerySchema,
    TeamSchema,
    VisitRecordSchema,
)
from agency.visits.ical import rota_calendar
from agency.visits.schemas import VisitSchema
from agency.web import db_session

# Nested under the visits blueprint (agency.visits.routes), whose tag it shares.
blp = Blueprint("continuity", __name__)

PARTIES = (Kind.MANAGER, Kind.PROVIDER, Kind.PARTNER)
ICS_DOC = {"responses": {"200": {"description": "iCalendar", "content": {"text/calendar": {}}}}}


@blp.route("/planned-visits")
class PlannedVisits(MethodView):
    @blp.arguments(PlannedVisitQuerySchema, location="query")
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(*PARTIES)
    def get(self, args, pagination_parameters):
        """Planned visits you may see, in time order (managers: the missed list)"""
        stmt = continuity.planned_visits_for(current_principal(), args)
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/planned-visits/<planned_id>")
class PlannedVisitItem(MethodView):
    @blp.response(200, PlannedVisitSchema)
    @requires(*PARTIES)
    def get(self, planned_id):
        """One planned visit"""
        return continuity.get_planned_visit(db_session(), current_principal(), planned_id)


@blp.route("/planned-visits/<planned_id>/cancel")
class CancelPlannedVisit(MethodView):
    @blp.arguments(CancelPlannedVisitSchema)
    @blp.response(200, PlannedVisitSchema)
    @blp.alt_response(409, description="Not planned, or already started (visit_not_cancellable)")
    @requires(Kind.PROVIDER)
    def post(self, body, planned_id):
        """The provider cancels a visit in advance, with a reason; the partner is told"""
        return continuity.cancel_planned_visit(
            db_session(), current_principal(), planned_id, body["reason"]
        )


@blp.route("/planned-visits/<planned_id>/acknowledge")
class AcknowledgeMissedVisit(MethodView):
    @blp.response(200, PlannedVisitSchema)
    @blp.alt_response(409, description="Not missed, or already dealt with (not_missed)")
    @requires(Kind.MANAGER)
    def post(self, planned_id):
        """The manager has dealt with a missed visit (it leaves the missed list)"""
        return continuity.acknowledge_missed(db_session(), current_principal(), planned_id)


@blp.route("/arrangements/<arrangement_id>/planned-visits")
class ArrangementPlannedVisits(MethodView):
    @blp.arguments(PlannedVisitQuerySchema, location="query")
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(*PARTIES)
    def get(self, args, arrangement_id, pagination_parameters):
        """An arrangement's planned visits, in time order"""
        session = db_session()
        stmt = continuity.planned_visits_of(session, current_principal(), arrangement_id, args)
        return page_of(session, stmt, pagination_parameters)


@blp.route("/care-seekers/<seeker_id>/upcoming-visits")
class SeekerUpcomingVisits(MethodView):
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(Kind.PARTNER, Kind.MANAGER)
    def get(self, seeker_id, pagination_parameters):
        """A seeker's planned visits from today"""
        session = db_session()
        stmt = continuity.upcoming_for_seeker(session, current_principal(), seeker_id)
        return page_of(session, stmt, pagination_parameters)


@blp.route("/rota")
class Rota(MethodView):
    @blp.arguments(RotaQuerySchema, location="query")
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(Kind.PROVIDER)
    def get(self, args, pagination_parameters):
        """Your rota: your planned visits, today to four weeks ahead by default"""
        stmt = continuity.rota_of(current_principal(), args.get("date_from"), args.get("date_to"))
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/rota/feed")
class RotaFeed(MethodView):
    @blp.response(201, RotaFeedSchema)
    @requires(Kind.PROVIDER)
    def post(self):
        """A new secret calendar URL for your rota (any earlier one stops working)"""
        token = continuity.issue_rota_feed(db_session(), current_principal())
        return {"url": url_for("visits.continuity.RotaCalendar", token=token, _external=True)}

    @blp.response(204)
    @blp.alt_response(404, description="You have no calendar URL")
    @requires(Kind.PROVIDER)
    def delete(self):
        """Revoke your calendar URL"""
        continuity.revoke_rota_feed(db_session(), current_principal())


@blp.route("/rota/feed/<token>.ics", endpoint="RotaCalendar")
class RotaCalendar(MethodView):
    @blp.doc(security=[], **ICS_DOC)
    def get(self, token):
        """A provider's rota as iCalendar, at its secret URL (no other credentials)"""
        visits = continuity.rota_feed_visits(db_session(), token)
        return Response(
            rota_calendar(visits, utcnow()),
            mimetype="text/calendar",
            headers={"Cache-Control": "private, max-age=300"},
        )


@blp.route("/providers/<provider_id>/visit-record")
class ProviderVisitRecord(MethodView):
    @blp.response(200, VisitRecordSchema)
    @requires(Kind.MANAGER)
    def get(self, provider_id):
        """A provider's planned visits by status over four weeks, and repeated misses"""
        return continuity.provider_visit_record(db_session(), current_principal(), provider_id)


# Cover (agency.visits.cover).


@blp.route("/providers/<provider_id>/affected-visits")
class AffectedVisits(MethodView):
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(Kind.MANAGER)
    def get(self, provider_id, pagination_parameters):
        """A provider's coming visits in their time off or cancelled by them (to cover)"""
        session = db_session()
        stmt = cover.affected_visits(session, current_principal(), provider_id)
        return page_of(session, stmt, pagination_parameters)


@blp.route("/providers/<provider_id>/absence-cover")
class AbsenceCover(MethodView):
    @blp.arguments(CoverOfferSchema)
    @blp.response(200, PlannedVisitSchema(many=True))
    @requires(Kind.MANAGER)
    def post(self, body, provider_id):
        """Offer every affected visit of the absence the given provider is proposed for"""
        return cover.offer_absence_cover(
            db_session(), current_principal(), provider_id, body["provider_id"]
        )


@blp.route("/planned-visits/<planned_id>/cover-suggestions")
class CoverSuggestions(MethodView):
    @blp.response(200, CoverSuggestionSchema(many=True))
    @blp.alt_response(409, description="The visit is past or done (visit_not_coverable)")
    @requires(Kind.MANAGER)
    def get(self, planned_id):
        """The best providers to cover this visit, best first, explained"""
        return cover.suggest_cover(db_session(), current_principal(), planned_id)


@blp.route("/planned-visits/<planned_id>/cover")
class OfferCover(MethodView):
    @blp.arguments(CoverOfferSchema)
    @blp.response(200, PlannedVisitSchema)
    @blp.alt_response(409, description="Past, done or already covered")
    @requires(Kind.MANAGER)
    def post(self, body, planned_id):
        """Offer this visit to a proposed cover provider"""
        return cover.offer_cover(db_session(), current_principal(), planned_id, body["provider_id"])


@blp.route("/planned-visits/<planned_id>/cover/accept")
class AcceptCover(MethodView):
    @blp.response(200, PlannedVisitSchema)
    @blp.alt_response(409, description="No cover waiting for an answer (cover_not_offered)")
    @requires(Kind.PROVIDER)
    def post(self, planned_id):
        """The provider offered cover accepts it"""
        return cover.answer_cover(db_session(), current_principal(), planned_id, True)


@blp.route("/planned-visits/<planned_id>/cover/decline")
class DeclineCover(MethodView):
    @blp.response(200, PlannedVisitSchema)
    @blp.alt_response(409, description="No cover waiting for an answer (cover_not_offered)")
    @requires(Kind.PROVIDER)
    def post(self, planned_id):
        """The provider offered cover declines it"""
        return cover.answer_cover(db_session(), current_principal(), planned_id, False)


@blp.route("/cover-offers")
class CoverOffers(MethodView):
    @blp.response(200, PlannedVisitSchema(many=True))
    @blp.paginate()
    @requires(Kind.PROVIDER)
    def get(self, pagination_parameters):
        """Visits offered to you as cover, or that you accepted, from today"""
        return page_of(
            db_session(), cover.cover_offers_for(current_principal()), pagination_parameters
        )


@blp.route("/planned-visits/<planned_id>/cover/visit")
class CoverVisit(MethodView):
    @blp.arguments(CoverVisitSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(409, description="Cover not accepted (cover_not_accepted), or already logged")
    @requires(Kind.PROVIDER)
    def post(self, body, planned_id):
        """The cover provider logs the visit they made (on its date): on their own
        timesheet, invoiced at their rates against the seeker's same ISF"""
        return cover.log_cover_visit(db_session(), current_principal(), planned_id, body)


@blp.route("/arrangements/<arrangement_id>/team")
class ArrangementTeam(MethodView):
    @blp.response(200, TeamSchema)
    @requires(Kind.MANAGER, Kind.PARTNER, Kind.PROVIDER)
    def get(self, arrangement_id):
        """The arrangement's small team (providers who know the seeker)"""
        return cover.get_team(db_session(), current_principal(), arrangement_id)

    @blp.arguments(TeamSchema)
    @blp.response(200, TeamSchema)
    @requires(Kind.MANAGER, Kind.PARTNER)
    def put(self, body, arrangement_id):
        """Set the team (up to 4 providers listed at the agency); cover counts them"""
        return cover.set_team(
            db_session(), current_principal(), arrangement_id, body["provider_ids"]
        )


# Feedback after visits (agency.visits.feedback).


@blp.route("/visits/<visit_id>/feedback")
class VisitFeedback(MethodView):
    @blp.arguments(FeedbackCreateSchema)
    @blp.response(201, FeedbackSchema)
    @blp.alt_response(409, description="Visit not confirmed, or feedback already given")
    @requires(Kind.PARTNER, Kind.PROVIDER)
    def post(self, body, visit_id):
        """Record the seeker's (partner) or the provider's feedback on a confirmed visit"""
        return feedback.give_feedback(db_session(), current_principal(), visit_id, body)


@blp.route("/feedback")
class FeedbackList(MethodView):
    @blp.arguments(FeedbackQuerySchema, location="query")
    @blp.response(200, FeedbackSchema(many=True))
    @blp.paginate()
    @requires(Kind.MANAGER)
    def get(self, args, pagination_parameters):
        """Your agency's visit feedback, newest first (concern=safeguarding: the concerns list)"""
        stmt = feedback.feedback_for(current_principal(), args)
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/rating")
class OwnRating(MethodView):
    @blp.response(200, RatingSummarySchema)
    @requires(Kind.PROVIDER)
    def get(self):
        """Your rating from seekers: the count, and the average once there are five"""
        return feedback.own_rating(db_session(), current_principal())


@blp.route("/care-seekers/<seeker_id>/backup-provider")
class SeekerBackupProvider(MethodView):
    @blp.response(200, BackupProviderSchema)
    @requires(Kind.PARTNER, Kind.MANAGER)
    def get(self, seeker_id):
        """The seeker's named backup provider (proposed first as cover)"""
        return cover.get_backup_provider(db_session(), current_principal(), seeker_id)

    @blp.arguments(BackupProviderSchema)
    @blp.response(200, BackupProviderSchema)
    @requires(Kind.PARTNER)
    def put(self, body, seeker_id):
        """Name (or clear, with null) the seeker's backup provider"""
        return cover.set_backup_provider(
            db_session(), current_principal(), seeker_id, body["provider_id"]
        )
