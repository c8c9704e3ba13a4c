"""Request and response bodies for care seekers and their consent."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from agency.db import utcnow
from agency.seekers.models import ContactPreference

# Partner clocks run a little fast or slow; "now" from one of them is not "the future".
CLOCK_SKEW = dt.timedelta(minutes=5)

# What a seeker may consent to; a care request needs "introductions" (see service).
CONSENT_PURPOSES = (
    "introductions",
    "share_with_providers",
    "isf_administration",
    "outcomes",  # ONS4 wellbeing answers (agency.outcomes)
    "equality_monitoring",  # equal-access monitoring answers (agency.equality)
    "community",  # community activity suggestions and referrals (agency.activities)
)


class ConsentInSchema(ma.Schema):
    terms_version = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Version of the terms the person agreed to", "example": "2026-01"},
    )
    purposes = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(CONSENT_PURPOSES)),
        required=True,
        validate=validate.Length(min=1, max=len(CONSENT_PURPOSES)),
        metadata={
            "description": f"What the data may be used for, among {', '.join(CONSENT_PURPOSES)}",
            "example": ["introductions", "share_with_providers"],
            "uniqueItems": True,  # _unique_purposes says so in its 422
        },
    )
    given_at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "When the person gave consent (timezone-aware, not in the future)",
            "example": "2026-11-20T10:30:00Z",
        },
    )

    @ma.validates("purposes")
    def _unique_purposes(self, value: list[str], **_: object) -> None:
        if len(set(value)) != len(value):
            raise ma.ValidationError("List each purpose once.")

    @ma.validates("given_at")
    def _not_in_future(self, value, **_: object) -> None:  # type: ignore[no-untyped-def]
        if value > utcnow() + CLOCK_SKEW:
            raise ma.ValidationError("Consent cannot be given in the future.")


class ConsentSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "cns_5a1b..."})
    terms_version = ma.fields.String(metadata={"example": "2026-01"})
    purposes = ma.fields.List(ma.fields.String(), metadata={"example": ["introductions"]})
    given_at = ma.fields.AwareDateTime(metadata={"example": "2026-11-20T10:30:00Z"})
    recorded_at = ma.fields.AwareDateTime(metadata={"description": "When we stored it"})
    withdrawn_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Set when the person withdrew it"}
    )


class WithdrawConsentSchema(ma.Schema):
    withdrawn_at = ma.fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "When the person withdrew consent (default: now; not in the future)",
            "example": "2026-11-25T09:00:00Z",
        },
    )

    @ma.validates("withdrawn_at")
    def _not_in_future(self, value, **_: object) -> None:  # type: ignore[no-untyped-def]
        if value is not None and value > utcnow() + CLOCK_SKEW:
            raise ma.ValidationError("Withdrawal cannot be in the future.")


def _display_name(required: bool) -> ma.fields.Field:
    return ma.fields.String(
        required=required,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "Name used in introductions", "example": "Maggie"},
    )


def _contact_preference() -> ma.fields.Field:
    return ma.fields.Enum(ContactPreference, by_value=True, metadata={"example": "via_partner"})


def _postcode(required: bool) -> ma.fields.Field:
    return ma.fields.String(
        required=required,
        validate=validate.Length(min=2, max=10),
        metadata={
            "description": "Full postcode or outcode; only the outcode and sector are kept",
            "example": "BS3 4AA",
        },
    )


class SeekerCreateSchema(ma.Schema):
    reference = ma.fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9._:/-]{1,64}$", error="Use 1-64 letters, digits or . _ : / -"
        ),
        metadata={
            "description": "The partner's own pseudonymous reference (no name, no NHS number)",
            "example": "bs3c-00421",
        },
    )
    display_name = _display_name(required=True)
    contact_preference = _contact_preference()
    postcode = _postcode(required=True)
    consent = ma.fields.Nested(
        ConsentInSchema,
        required=True,
        metadata={"description": "The person's consent; nothing is stored without it"},
    )


class SeekerChangeSchema(ma.Schema):
    display_name = _display_name(required=False)
    contact_preference = _contact_preference()
    postcode = _postcode(required=False)


class SeekerSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "skr_7d2e..."})
    reference = ma.fields.String(metadata={"example": "bs3c-00421"})
    display_name = ma.fields.String(allow_none=True, metadata={"example": "Maggie"})
    contact_preference = ma.fields.Enum(
        ContactPreference, by_value=True, allow_none=True, metadata={"example": "via_partner"}
    )
    outcode = ma.fields.String(allow_none=True, metadata={"example": "BS3"})
    sector = ma.fields.String(allow_none=True, metadata={"example": "BS3 4"})
    has_consent = ma.fields.Boolean(
        metadata={"description": "Whether current (not withdrawn) consent is on record"}
    )
    consent = ma.fields.Nested(
        ConsentSchema,
        allow_none=True,
        metadata={"description": "The current consent (latest not withdrawn), if any"},
    )
    erased = ma.fields.Boolean(metadata={"description": "Personal data erased on request"})
    erased_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class SeekerQuerySchema(ma.Schema):
    reference = ma.fields.String(
        validate=validate.Length(max=64), metadata={"description": "Only this reference"}
    )
