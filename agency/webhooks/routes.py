"""HTTP routes: a partner's webhook endpoints, secrets, delivery log and re-delivery."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.web import db_session
from agency.webhooks import service
from agency.webhooks.schemas import (
    WebhookDeliverySchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointSchema,
    WebhookEndpointWithSecretSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/", description="Signed webhooks to partners")


@blp.route("/webhook-endpoints")
class Endpoints(MethodView):
    @blp.response(200, WebhookEndpointSchema(many=True))
    @requires(Kind.PARTNER)
    def get(self):
        """List the calling partner's webhook endpoints (never their secrets)"""
        return db_session().scalars(service.endpoints_of(current_principal())).all()

    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointWithSecretSchema)
    @requires(Kind.PARTNER)
    def post(self, body):
        """Register a webhook endpoint; its signing secret is shown once"""
        settings = current_app.extensions["agency"].settings
        return service.register_endpoint(
            db_session(),
            current_principal(),
            url=body["url"],
            events=body["events"],
            description=body.get("description"),
            allow_private=settings.webhook_allow_private,
        )


@blp.route("/webhook-endpoints/<endpoint_id>")
class EndpointItem(MethodView):
    @blp.response(200, WebhookEndpointSchema)
    @requires(Kind.PARTNER)
    def get(self, endpoint_id):
        """One of the calling partner's webhook endpoints"""
        return service.get_endpoint(db_session(), current_principal(), endpoint_id)

    @blp.response(204)
    @requires(Kind.PARTNER)
    def delete(self, endpoint_id):
        """Stop sending events to this endpoint"""
        service.delete_endpoint(db_session(), current_principal(), endpoint_id)


@blp.route("/webhook-endpoints/<endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.response(200, WebhookEndpointWithSecretSchema)
    @requires(Kind.PARTNER)
    def post(self, endpoint_id):
        """Issue a new signing secret; the old one also signs for 24 hours"""
        return service.rotate_secret(db_session(), current_principal(), endpoint_id)


@blp.route("/webhook-endpoints/<endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.response(200, WebhookDeliverySchema(many=True))
    @blp.paginate()
    @requires(Kind.PARTNER)
    def get(self, endpoint_id, pagination_parameters):
        """The delivery log of an endpoint, newest first, with every attempt"""
        session = db_session()
        stmt = service.deliveries_of(session, current_principal(), endpoint_id)
        return page_of(session, stmt, pagination_parameters)


@blp.route("/webhook-deliveries/<delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.response(202, WebhookDeliverySchema)
    @requires(Kind.PARTNER)
    def post(self, delivery_id):
        """Send a delivery again now, with a fresh retry schedule"""
        return service.redeliver(db_session(), current_principal(), delivery_id)
