"""Sign-in, token refresh and revocation, the caller's identity, a partner's API keys."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.accounts import api_keys, service
from agency.accounts.schemas import (
    ApiKeyCreateSchema,
    ApiKeySchema,
    IssuedApiKeySchema,
    PrincipalSchema,
    RefreshSchema,
    SignInSchema,
    TokenPairSchema,
)
from agency.auth import current_principal, requires
from agency.web import db_session
from agency.web.throttle import throttled_sign_in

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-in, tokens and API keys")


def _token_body(pair: service.TokenPair) -> dict[str, object]:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "access_expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
    }


def _lifetimes() -> dict[str, int]:
    settings = current_app.extensions["agency"].settings
    return {
        "access_minutes": settings.access_token_minutes,
        "refresh_days": settings.refresh_token_days,
    }


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(SignInSchema)
    @blp.response(201, TokenPairSchema)
    @blp.alt_response(401, description="Wrong email or password")
    @blp.alt_response(
        429, description="Too many failed attempts for this account or address; see Retry-After"
    )
    @throttled_sign_in
    def post(self, body):
        """Sign in with email and password and get a bearer token pair"""
        pair = service.sign_in(db_session(), body["email"], body["password"], **_lifetimes())
        return _token_body(pair)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(201, TokenPairSchema)
    @blp.alt_response(401, description="Refresh token invalid, expired or already used")
    def post(self, body):
        """Exchange a refresh token for a new token pair (the old pair stops working)"""
        pair = service.refresh(db_session(), body["refresh_token"], **_lifetimes())
        return _token_body(pair)


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @requires(Kind.PROVIDER, Kind.MANAGER, Kind.AUDITOR, Kind.ADMIN)
    def post(self):
        """Revoke the bearer token used for this request"""
        service.revoke_token(db_session(), current_principal())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, PrincipalSchema)
    def get(self):
        """Who the credentials in this request belong to (a manager: with their agency's council)"""
        return service.describe(db_session(), current_principal())


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @blp.response(200, ApiKeySchema(many=True))
    @requires(Kind.PARTNER)
    def get(self):
        """List the calling partner client's API keys (never their secrets)"""
        return api_keys.list_api_keys(db_session(), current_principal().id)

    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, IssuedApiKeySchema)
    @requires(Kind.PARTNER)
    def post(self, body):
        """Create another API key for the calling partner client; its secret is shown once"""
        issued = api_keys.issue_api_key(db_session(), current_principal().id, body["name"])
        return {
            "api_key": issued.secret,
            **{f: getattr(issued.api_key, f) for f in ApiKeySchema().fields},
        }


@blp.route("/api-keys/<key_id>")
class ApiKeyItem(MethodView):
    @blp.response(200, ApiKeySchema)
    @requires(Kind.PARTNER)
    def delete(self, key_id):
        """Revoke one of the calling partner client's API keys"""
        return api_keys.revoke_api_key(db_session(), current_principal().id, key_id)
