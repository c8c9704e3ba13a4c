"""HTTP routes: an agency's provider directory and the public provider directory."""

from flask.views import MethodView

from agency.auth import Kind, current_principal, requires
from agency.directory import provider_directory
from agency.directory.provider_schemas import (
    AgencyProviderQuerySchema,
    AgencyProviderSchema,
    PublicProviderQuerySchema,
    PublicProviderSchema,
)
from agency.directory.routes import ANY, blp
from agency.web import db_session


@blp.route("/agencies/<agency_id>/providers")
class AgencyProviders(MethodView):
    @blp.arguments(AgencyProviderQuerySchema, location="query")
    @blp.response(200, AgencyProviderSchema(many=True))
    @blp.alt_response(404, description="No such agency, or not yours")
    @blp.paginate(max_page_size=100)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, query, agency_id, pagination_parameters):
        """Providers listed at an agency, with listing status and compliance at a glance"""
        return provider_directory.agency_providers(
            db_session(), current_principal(), agency_id, query, pagination_parameters
        )


@blp.route("/directory/providers")
class PublicProviders(MethodView):
    @blp.arguments(PublicProviderQuerySchema, location="query")
    @blp.response(200, PublicProviderSchema(many=True))
    @blp.paginate(max_page_size=100)
    @requires(*ANY)
    def get(self, query, pagination_parameters):
        """Approved providers with in-date checks, as care seekers may see them"""
        return provider_directory.public_providers(db_session(), query, pagination_parameters)
