"""HTTP routes: Councils, agencies, neighbourhoods, postcodes and service types.

The domain's blueprint: the provider directories (``provider_routes``) are a blueprint
nested under it, sharing its tag.
"""

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.directory import neighbourhoods, service
from agency.directory.provider_routes import blp as provider_directory_blp
from agency.directory.route_common import ANY
from agency.directory.schemas import (
    AgencyCreateSchema,
    AgencyDetailSchema,
    AgencyQuerySchema,
    AgencySchema,
    AgencyUpdateSchema,
    CouncilSchema,
    NeighbourhoodCreateSchema,
    NeighbourhoodQuerySchema,
    NeighbourhoodSchema,
    NeighbourhoodUpdateSchema,
    PostcodeSchema,
    ServiceTypeSchema,
)
from agency.pagination import page_of
from agency.web import db_session

blp = Blueprint(
    "directory",
    __name__,
    url_prefix="/",
    description="Councils, agencies, neighbourhoods and service types",
)


@blp.route("/councils")
class Councils(MethodView):
    @blp.response(200, CouncilSchema(many=True))
    @blp.paginate(max_page_size=100)
    @requires(Kind.MANAGER, Kind.AUDITOR)
    def get(self, pagination_parameters):
        """List councils: all for admins, your own for auditors and managers"""
        stmt = service.councils_query(current_principal())
        return page_of(db_session(), stmt, pagination_parameters)


@blp.route("/agencies")
class Agencies(MethodView):
    @blp.arguments(AgencyQuerySchema, location="query")
    @blp.response(200, AgencySchema(many=True))
    @blp.paginate(max_page_size=100)
    @requires(*ANY)
    def get(self, query, pagination_parameters):
        """List agencies with their neighbourhoods and local-spend tags (public facts)"""
        stmt = service.agencies_query(query.get("council_id"))
        return page_of(db_session(), stmt, pagination_parameters)

    @blp.arguments(AgencyCreateSchema)
    @blp.response(201, AgencyDetailSchema)
    @blp.alt_response(409, description="Slug taken")
    @requires(Kind.ADMIN)
    def post(self, body):
        """Create an agency in a council (admins)"""
        return service.register_agency(db_session(), current_principal(), body)


@blp.route("/agencies/<agency_id>")
class AgencyItem(MethodView):
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, description="No such agency")
    @requires(*ANY)
    def get(self, agency_id):
        """One agency's public facts"""
        return service.get_agency(db_session(), agency_id)

    @blp.arguments(AgencyUpdateSchema)
    @blp.response(200, AgencyDetailSchema)
    @blp.alt_response(404, description="No such agency, or not yours")
    @requires(Kind.MANAGER)
    def patch(self, body, agency_id):
        """Change an agency (admins), or its matching weights (its own managers)"""
        return service.update_agency(db_session(), current_principal(), agency_id, body)


@blp.route("/neighbourhoods")
class Neighbourhoods(MethodView):
    @blp.arguments(NeighbourhoodQuerySchema, location="query")
    @blp.response(200, NeighbourhoodSchema(many=True))
    @blp.paginate(max_page_size=100)
    @requires(*ANY)
    def get(self, query, pagination_parameters):
        """List neighbourhoods with their outcodes and covering agency (or null)"""
        stmt = neighbourhoods.neighbourhoods_query(query.get("council_id"), query.get("agency_id"))
        return page_of(db_session(), stmt, pagination_parameters)

    @blp.arguments(NeighbourhoodCreateSchema)
    @blp.response(201, NeighbourhoodSchema)
    @blp.alt_response(409, description="Slug taken")
    @requires(Kind.ADMIN)
    def post(self, body):
        """Draw a neighbourhood from outcodes, covered by an agency or none (admins)"""
        return neighbourhoods.create_neighbourhood(db_session(), current_principal(), body)


@blp.route("/neighbourhoods/<neighbourhood_id>")
class NeighbourhoodItem(MethodView):
    @blp.response(200, NeighbourhoodSchema)
    @blp.alt_response(404, description="No such neighbourhood")
    @requires(*ANY)
    def get(self, neighbourhood_id):
        """One neighbourhood with its outcodes and covering agency (or null)"""
        return neighbourhoods.get_neighbourhood(db_session(), neighbourhood_id)

    @blp.arguments(NeighbourhoodUpdateSchema)
    @blp.response(200, NeighbourhoodSchema)
    @blp.alt_response(404, description="No such neighbourhood")
    @requires(Kind.ADMIN)
    def patch(self, body, neighbourhood_id):
        """Rename a neighbourhood, reassign its agency or redraw its outcodes (admins)"""
        return neighbourhoods.update_neighbourhood(
            db_session(), current_principal(), neighbourhood_id, body
        )


@blp.route("/postcodes/<postcode>")
class Postcode(MethodView):
    @blp.response(200, PostcodeSchema)
    @requires(*ANY)
    def get(self, postcode):
        """Where a postcode is: outcode, sector, neighbourhood, covering agency, council"""
        return neighbourhoods.resolve_postcode(db_session(), postcode)


@blp.route("/service-types")
class ServiceTypes(MethodView):
    @blp.response(200, ServiceTypeSchema(many=True))
    @requires(*ANY)
    def get(self):
        """The taxonomy of support agencies broker"""
        return service.list_service_types(db_session())


blp.register_blueprint(provider_directory_blp)
