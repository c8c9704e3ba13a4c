"""Webhook endpoints, deliveries and attempts as the API shows them."""

import marshmallow as ma
from marshmallow import validate

from agency.webhooks.service import EVENT_TYPES


class WebhookEndpointCreateSchema(ma.Schema):
    url = ma.fields.Url(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={
            "description": "https URL to POST events to",
            "example": "https://partner.example/hooks",
        },
    )
    events = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Event types to receive", "example": ["introduction.accepted"]},
    )
    description = ma.fields.String(
        validate=validate.Length(max=200), metadata={"example": "production receiver"}
    )


class WebhookEndpointSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "whe_9a1f..."})
    url = ma.fields.String(metadata={"example": "https://partner.example/hooks"})
    events = ma.fields.List(ma.fields.String(), metadata={"example": ["introduction.accepted"]})
    description = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = ma.fields.String(
        metadata={
            "description": "Signing secret (Standard Webhooks), shown only in this response",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
    )


class WebhookAttemptSchema(ma.Schema):
    attempted_at = ma.fields.AwareDateTime()
    status_code = ma.fields.Integer(allow_none=True, metadata={"example": 200})
    error = ma.fields.String(allow_none=True, metadata={"example": "ConnectTimeout"})
    duration_ms = ma.fields.Integer(metadata={"example": 41})


class WebhookDeliverySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "whd_31bc..."})
    event_id = ma.fields.String(
        metadata={"description": "The webhook-id header", "example": "msg_..."}
    )
    event_type = ma.fields.Function(
        lambda d: d.event.type, metadata={"example": "arrangement.started"}
    )
    payload = ma.fields.Function(lambda d: d.event.payload)
    status = ma.fields.String(metadata={"example": "succeeded"})
    attempts = ma.fields.Integer(metadata={"example": 1})
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    last_status_code = ma.fields.Integer(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    log = ma.fields.List(ma.fields.Nested(WebhookAttemptSchema))
