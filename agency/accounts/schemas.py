"""Request and response bodies for sign-in, tokens and API keys."""

import marshmallow as ma
from marshmallow import validate


class SignInSchema(ma.Schema):
    email = ma.fields.Email(required=True, metadata={"example": "manager@southmead.example"})
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "demo-password-southmead"},
    )


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, load_only=True, metadata={"example": "irt_..."})


class TokenPairSchema(ma.Schema):
    token_type = ma.fields.Constant("Bearer", metadata={"example": "Bearer"})
    access_token = ma.fields.String(metadata={"example": "iat_0b7c..."})
    refresh_token = ma.fields.String(metadata={"example": "irt_93fa..."})
    access_expires_at = ma.fields.AwareDateTime()
    refresh_expires_at = ma.fields.AwareDateTime()


class PrincipalSchema(ma.Schema):
    kind = ma.fields.String(metadata={"example": "manager"})
    id = ma.fields.String(metadata={"example": "usr_5d1c2e..."})
    agency_id = ma.fields.String(allow_none=True, metadata={"example": "agy_81fa..."})
    council_id = ma.fields.String(allow_none=True)
    provider_id = ma.fields.String(allow_none=True)


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "production"}
    )


class ApiKeySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "key_4a2f..."})
    name = ma.fields.String(metadata={"example": "production"})
    prefix = ma.fields.String(
        metadata={
            "example": "iak_3f9c2a1b",
            "description": "Readable start of the key, to tell keys apart",
        }
    )
    created_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedApiKeySchema(ApiKeySchema):
    api_key = ma.fields.String(
        metadata={
            "description": "The secret, shown only in this response",
            "example": "iak_3f9c2a1b_Xy...",
        }
    )


class RegistrationAcceptedSchema(ma.Schema):
    status = ma.fields.Constant("confirmation_sent", metadata={"example": "confirmation_sent"})
    message = ma.fields.String(
        metadata={
            "example": "Check your email: we have sent a confirmation code to the address given."
        }
    )
    expires_at = ma.fields.AwareDateTime(
        metadata={"description": "Until when the mailed confirmation code works"}
    )


class RegistrationConfirmSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=8, max=200),
        metadata={"description": "The code mailed to the address", "example": "irg_Hk3..."},
    )
