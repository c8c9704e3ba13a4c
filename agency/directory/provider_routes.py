"""HTTP routes: an agency's provider directory and the public provider directory."""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Action, Kind, load
from agency.auth import current_principal, requires
from agency.directory import provider_directory
from agency.directory.models import Agency
from agency.directory.provider_schemas import (
    AgencyProviderQuerySchema,
    AgencyProviderSchema,
    PublicProviderQuerySchema,
    PublicProviderSchema,
)
from agency.directory.route_common import ANY
from agency.web import db_session
from agency.web.read_cache import cached_json, serve_cached_pages

# Nested under the directory blueprint (agency.directory.routes), whose tag it shares.
blp = Blueprint("provider_directory", __name__)


def _agency_readers() -> tuple[object, ...]:
    """Who a cached agency page was built for: readers bound alike were authorised alike
    (the agency's own managers, its council's auditors, admins)."""
    principal = current_principal()
    assert principal is not None
    return (principal.kind, principal.agency_id, principal.council_id)


@blp.route("/agencies/<agency_id>/providers")
class AgencyProviders(MethodView):
    @blp.arguments(AgencyProviderQuerySchema, location="query")
    @blp.response(200, AgencyProviderSchema(many=True))
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    @blp.alt_response(404, description="No such agency, or not yours")
    @blp.paginate(max_page_size=100)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, query, agency_id, pagination_parameters):
        """Providers listed at an agency, with listing status and compliance at a glance"""
        session, principal = db_session(), current_principal()
        load(session, principal, Agency, agency_id, Action.READ)  # 404 before any cache

        def build():  # type: ignore[no-untyped-def]
            entries = provider_directory.agency_providers(
                session, principal, agency_id, query, pagination_parameters
            )
            data = AgencyProviderSchema(many=True).dump(entries)
            return data, {"item_count": pagination_parameters.item_count}

        # Every reader allowed to see this agency sees the same page (read_cache).
        response, meta = cached_json(session, build, *_agency_readers())
        pagination_parameters.item_count = meta["item_count"]
        return response


@blp.route("/directory/providers")
class PublicProviders(MethodView):
    @blp.arguments(PublicProviderQuerySchema, location="query")
    @blp.response(200, PublicProviderSchema(many=True))
    @blp.alt_response(304, description="Not modified (the page's ETag was sent)")
    @blp.paginate(max_page_size=100)
    @requires(*ANY)
    def get(self, query, pagination_parameters):
        """Approved providers with in-date checks, as care seekers may see them"""
        session = db_session()

        def build():  # type: ignore[no-untyped-def]
            entries = provider_directory.public_providers(session, query, pagination_parameters)
            data = PublicProviderSchema(many=True).dump(entries)
            return data, {"item_count": pagination_parameters.item_count}

        # The same for every principal: the rendered page is shared (read_cache).
        response, meta = cached_json(session, build)
        pagination_parameters.item_count = meta["item_count"]
        return response


# Cached pages are answered before argument parsing (read_cache.serve_cached_pages).
serve_cached_pages(blp, {"AgencyProviders": _agency_readers, "PublicProviders": tuple})
