"""HTTP routes: micro-provider registration, profile, services and rates, availability.

The domain's blueprint: the compliance and vetting blueprints (``compliance_routes``,
``vetting_routes``) are nested under it, so they share its ``/providers`` prefix and tag.
"""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.accounts.schemas import RegistrationAcceptedSchema, RegistrationConfirmSchema
from agency.auth import current_principal, requires
from agency.mail import mailer_for
from agency.providers import profile, service
from agency.providers.compliance_routes import blp as compliance_blp
from agency.providers.route_common import READERS, refusals_of
from agency.providers.schemas import (
    AvailabilitySchema,
    ExceptionSchema,
    ProviderProfileSchema,
    ProviderRegistrationSchema,
    ProviderSchema,
    ServicesSchema,
    WeeklyAvailabilitySchema,
)
from agency.providers.vetting_routes import blp as vetting_blp
from agency.web import db_session
from agency.web.throttle import throttled_registration

blp = Blueprint(
    "providers",
    __name__,
    url_prefix="/providers",
    description="Micro-provider profiles, availability, compliance and vetting",
)

refusals = refusals_of(blp)


@blp.route("/register")
class Registration(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ProviderRegistrationSchema)
    @blp.response(202, RegistrationAcceptedSchema)
    @blp.alt_response(429, description="Too many registrations from this address or for this email")
    @throttled_registration
    def post(self, body):
        """Ask to register as a micro-provider; a confirmation code is mailed to the address"""
        email, password = body.pop("email"), body.pop("password")
        expires_at = profile.request_provider_registration(
            db_session(),
            mailer_for(current_app.extensions["agency"].settings),
            email=email,
            password=password,
            base_postcode=body.pop("base_postcode"),
            profile=body,
        )
        return {
            "message": "Check your email: we have sent a confirmation code to the address given.",
            "expires_at": expires_at,
        }


@blp.route("/register/confirm")
class RegistrationConfirmation(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RegistrationConfirmSchema)
    @blp.response(201, ProviderSchema)
    @blp.alt_response(404, description="The code is unknown, used or expired")
    @blp.alt_response(409, description="The email was registered meanwhile (email_taken)")
    def post(self, body):
        """Finish registering with the mailed code (then sign in with POST /auth/token)"""
        return profile.confirm_provider_registration(db_session(), body["token"])


@blp.route("/<provider_id>")
class ProviderItem(MethodView):
    @blp.response(200, ProviderSchema)
    @refusals
    @requires(*READERS)
    def get(self, provider_id):
        """A provider's profile (itself, managers and auditors where it applied)"""
        return service.provider_for_read(db_session(), current_principal(), provider_id)

    @blp.arguments(ProviderProfileSchema(partial=True))
    @blp.response(200, ProviderSchema)
    @refusals
    @requires(Kind.PROVIDER)
    def patch(self, body, provider_id):
        """Change the provider's own profile"""
        return profile.update_provider(db_session(), current_principal(), provider_id, body)


@blp.route("/<provider_id>/services")
class Services(MethodView):
    @blp.arguments(ServicesSchema)
    @blp.response(200, ProviderSchema)
    @blp.alt_response(422, description="Unknown service, or cqc_registration_required")
    @refusals
    @requires(Kind.PROVIDER)
    def put(self, body, provider_id):
        """Replace the services the provider offers and its hourly rates"""
        return profile.set_services(
            db_session(), current_principal(), provider_id, body["services"]
        )


@blp.route("/<provider_id>/availability")
class Availability(MethodView):
    @blp.response(200, AvailabilitySchema)
    @refusals
    @requires(*READERS)
    def get(self, provider_id):
        """The provider's weekly availability and dated time off"""
        return service.provider_for_read(db_session(), current_principal(), provider_id)

    @blp.arguments(WeeklyAvailabilitySchema)
    @blp.response(200, AvailabilitySchema)
    @refusals
    @requires(Kind.PROVIDER)
    def put(self, body, provider_id):
        """Replace the weekly pattern (Europe/London wall time, 30-minute boundaries)"""
        return profile.set_availability(
            db_session(), current_principal(), provider_id, body["weekly"]
        )


@blp.route("/<provider_id>/availability/exceptions")
class Exceptions(MethodView):
    @blp.arguments(ExceptionSchema)
    @blp.response(201, ExceptionSchema)
    @refusals
    @requires(Kind.PROVIDER)
    def post(self, body, provider_id):
        """Add dated time off (holiday, sickness, other)"""
        return profile.add_exception(db_session(), current_principal(), provider_id, **body)


@blp.route("/<provider_id>/availability/exceptions/<exception_id>")
class ExceptionItem(MethodView):
    @blp.response(204)
    @refusals
    @requires(Kind.PROVIDER)
    def delete(self, provider_id, exception_id):
        """Remove dated time off"""
        profile.delete_exception(db_session(), current_principal(), provider_id, exception_id)


blp.register_blueprint(compliance_blp)
blp.register_blueprint(vetting_blp)
