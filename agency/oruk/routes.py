"""HTTP routes: the Open Referral UK feed (public and CORS-open, like ORUK directories)."""

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.oruk import service
from agency.oruk.schemas import (
    OrukInfoSchema,
    OrukPageQuerySchema,
    OrukServiceAtLocationPageSchema,
    OrukServiceAtLocationSchema,
    OrukServicePageSchema,
    OrukServiceQuerySchema,
    OrukServiceSchema,
    OrukTaxonomyPageSchema,
    OrukTaxonomySchema,
    OrukTaxonomyTermPageSchema,
    OrukTaxonomyTermSchema,
)
from agency.web import db_session
from agency.web.read_cache import cached_json, serve_cached_pages

blp = Blueprint(
    "oruk", __name__, url_prefix="/oruk", description="Open Referral UK view of approved providers"
)
PUBLIC = {"security": []}  # no credentials: ORUK directories are open to any reader
STRICT = {"unknown": ma.RAISE}  # an unsupported filter is a 422, never ignored


@blp.after_request
def open_to_browsers(response):  # type: ignore[no-untyped-def]
    """ORUK's compliance rules: browser-based directories may read the feed (CORS)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    return response


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _cached(schema, build):  # type: ignore[no-untyped-def]
    """The rendered page from the public read cache (agency.web.read_cache)."""
    session = db_session()
    response, _ = cached_json(session, lambda: (schema().dump(build(session)), {}))
    return response


@blp.route("/")
class OrukInfo(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukInfoSchema)
    def get(self):
        """Which Open Referral UK version and profile this view follows"""
        return {
            "version": service.ORUK_VERSION,
            "profile": service.PROFILE,
            "openapi_url": f"{_base_url()}/openapi.json",
        }


@blp.route("/services")
class OrukServices(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukServiceQuerySchema, location="query", **STRICT)
    @blp.response(200, OrukServicePageSchema)
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    def get(self, query):
        """Approved providers with in-date checks, then community activities, as ORUK services"""
        return _cached(
            OrukServicePageSchema, lambda s: service.list_services(s, _base_url(), query)
        )


@blp.route("/services/<service_id>")
class OrukServiceItem(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukServiceSchema)
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    @blp.alt_response(404, description="No such service, or not approved and in date")
    def get(self, service_id):
        """One provider or community activity as a fully nested ORUK service (by its UUID)"""
        return _cached(OrukServiceSchema, lambda s: service.get_service(s, _base_url(), service_id))


@blp.route("/service_at_locations")
class OrukServiceAtLocations(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukServiceQuerySchema, location="query", **STRICT)
    @blp.response(200, OrukServiceAtLocationPageSchema)
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    def get(self, query):
        """Each service at its postcode district, one page (same filters as services)"""
        return _cached(
            OrukServiceAtLocationPageSchema,
            lambda s: service.list_service_at_locations(s, _base_url(), query),
        )


@blp.route("/service_at_locations/<sal_id>")
class OrukServiceAtLocationItem(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukServiceAtLocationSchema)
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    @blp.alt_response(404, description="No such service at location")
    def get(self, sal_id):
        """One service at its location, fully nested"""
        return _cached(
            OrukServiceAtLocationSchema,
            lambda s: service.get_service_at_location(s, _base_url(), sal_id),
        )


@blp.route("/taxonomies")
class OrukTaxonomies(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukPageQuerySchema, location="query", **STRICT)
    @blp.response(200, OrukTaxonomyPageSchema)
    def get(self, query):
        """The taxonomies our terms come from (one: introductory-agency-services)"""
        return service.list_taxonomies(db_session(), query["page"], query["per_page"])


@blp.route("/taxonomies/<taxonomy_id>")
class OrukTaxonomyItem(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukTaxonomySchema)
    @blp.alt_response(404, description="No such taxonomy")
    def get(self, taxonomy_id):
        """One taxonomy with its terms"""
        return service.get_taxonomy(db_session(), taxonomy_id)


@blp.route("/taxonomy_terms")
class OrukTaxonomyTerms(MethodView):
    @blp.doc(**PUBLIC)
    @blp.arguments(OrukPageQuerySchema, location="query", **STRICT)
    @blp.response(200, OrukTaxonomyTermPageSchema)
    def get(self, query):
        """Our service types as taxonomy terms, one page"""
        return service.list_taxonomy_terms(db_session(), query["page"], query["per_page"])


@blp.route("/taxonomy_terms/<term_id>")
class OrukTaxonomyTermItem(MethodView):
    @blp.doc(**PUBLIC)
    @blp.response(200, OrukTaxonomyTermSchema)
    @blp.alt_response(404, description="No such taxonomy term")
    def get(self, term_id):
        """One taxonomy term (by its UUID or code)"""
        return service.get_taxonomy_term(db_session(), term_id)


# Every cached read of the feed is answered before argument parsing (read_cache).
serve_cached_pages(
    blp,
    {
        view: tuple
        for view in (
            "OrukServices",
            "OrukServiceItem",
            "OrukServiceAtLocations",
            "OrukServiceAtLocationItem",
        )
    },
)
