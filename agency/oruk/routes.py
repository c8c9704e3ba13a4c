"""HTTP routes: Open Referral UK view of approved providers (public, like ORUK directories)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.oruk import service
from agency.oruk.schemas import (
    OrukInfoSchema,
    OrukPageQuerySchema,
    OrukServicePageSchema,
    OrukServiceQuerySchema,
    OrukServiceSchema,
    OrukTaxonomyTermPageSchema,
)
from agency.web import db_session

blp = Blueprint(
    "oruk", __name__, url_prefix="/oruk", description="Open Referral UK view of approved providers"
)
PUBLIC = {"security": []}  # no credentials: ORUK directories are open to any reader


@blp.route("/")
class OrukInfo(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukInfoSchema)
    def get(self):
        """Which Open Referral UK version and profile this view follows"""
        return {
            "version": service.ORUK_VERSION,
            "profile": service.PROFILE,
            "openapi_url": "/openapi.json",
        }


@blp.route("/services")
class OrukServices(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukServiceQuerySchema, location="query")
    @blp.response(200, OrukServicePageSchema)
    def get(self, query):
        """Approved providers with in-date checks, as ORUK services, one page"""
        return service.list_services(db_session(), query)


@blp.route("/services/<service_id>")
class OrukServiceItem(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukServiceSchema)
    @blp.alt_response(404, description="No such service, or not approved and in date")
    def get(self, service_id):
        """One provider as an ORUK service"""
        return service.get_service(db_session(), service_id)


@blp.route("/taxonomies")
class OrukTaxonomies(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukPageQuerySchema, location="query")
    @blp.response(200, OrukTaxonomyTermPageSchema)
    def get(self, query):
        """Our service types as terms of the introductory-agency-services taxonomy"""
        return service.list_taxonomy_terms(db_session(), query["page"], query["per_page"])
