"""Request and response bodies for care requests."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from agency.dates import london_today
from agency.pagination import sort_field
from agency.schedule import WINDOW_END, WINDOW_START
from agency.seekers.models import Funding, RequestStatus, Urgency

MAX_NOTES = 1000


class CareWindowSchema(ma.Schema):
    weekday = ma.fields.Integer(
        required=True,
        validate=validate.Range(0, 6),
        metadata={"description": "0 = Monday ... 6 = Sunday", "example": 1},
    )
    start = ma.fields.String(
        required=True,
        validate=WINDOW_START,
        metadata={"description": "Europe/London wall time, on a half hour", "example": "10:00"},
    )
    end = ma.fields.String(
        required=True,
        validate=WINDOW_END,
        metadata={
            "description": "Europe/London wall time, on a half hour, after start; 24:00 ends "
            "the day",
            "example": "12:00",
        },
    )


class PreferencesSchema(ma.Schema):
    languages = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=2, max=35)),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "Preferred languages (BCP 47 tags)", "example": ["en", "so"]},
    )
    language_required = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only providers speaking one of them"}
    )
    gender = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "Preferred gender of the provider", "example": "female"},
    )
    gender_required = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only providers of that gender"}
    )
    known_provider_ids = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=40)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": "Providers the person already knows (continuity of care)",
            "example": ["prv_3a9c..."],
        },
    )


def _services(required: bool) -> ma.fields.Field:
    return ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        required=required,
        validate=validate.Length(min=1, max=10),
        metadata={
            "description": "Keys of service types (GET /service-types), each once",
            "example": ["companionship", "shopping_errands"],
            "uniqueItems": True,  # _unique_services says so in its 422
        },
    )


def _hours(required: bool) -> ma.fields.Field:
    return ma.fields.Float(
        required=required,
        validate=validate.Range(0.5, 60),
        metadata={
            "description": "Hours a week, in half hours (0.5 to 60)",
            "example": 4.5,
            "multipleOf": 0.5,  # _half_hours says so in its 422
        },
    )


def _windows(required: bool) -> ma.fields.Field:
    return ma.fields.List(
        ma.fields.Nested(CareWindowSchema),
        required=required,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Weekly times when support may happen"},
    )


def _start_date(required: bool) -> ma.fields.Field:
    return ma.fields.Date(
        required=required,
        metadata={"description": "First day support is wanted (not in the past)"},
    )


class CareRequestChangeSchema(ma.Schema):
    """What a partner may change while the request is open or matching."""

    services = _services(required=False)
    hours_per_week = _hours(required=False)
    windows = _windows(required=False)
    allow_split = ma.fields.Boolean(
        metadata={"description": "May the hours be shared between providers"}
    )
    start_date = _start_date(required=False)
    urgency = ma.fields.Enum(Urgency, by_value=True, metadata={"example": "soon"})
    funding = ma.fields.Enum(Funding, by_value=True, metadata={"example": "isf"})
    max_rate_pence = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(100, 20000),
        metadata={
            "description": "Highest hourly rate the person can pay, in pence",
            "example": 2200,
        },
    )
    preferences = ma.fields.Nested(PreferencesSchema)
    notes = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=MAX_NOTES),
        metadata={"description": "Free text for the agency manager", "example": "Has a cat."},
    )
    postcode = ma.fields.String(
        validate=validate.Length(min=2, max=10),
        metadata={
            "description": "Where support happens (default: the seeker's outcode)",
            "example": "BS3 4AA",
        },
    )
    version = ma.fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "The version you last read (or send If-Match)", "example": 1},
    )

    @ma.validates("hours_per_week")
    def _half_hours(self, value: float, **_: object) -> None:
        if not (value * 2).is_integer():
            raise ma.ValidationError("Use whole half hours (e.g. 2, 2.5).")

    @ma.validates("start_date")
    def _not_past(self, value: dt.date, **_: object) -> None:
        if value < london_today():
            raise ma.ValidationError("The start date is in the past.")

    @ma.validates("services")
    def _unique_services(self, value: list[str], **_: object) -> None:
        if len(set(value)) != len(value):
            raise ma.ValidationError("List each service once.")


class CareRequestCreateSchema(CareRequestChangeSchema):
    services = _services(required=True)
    hours_per_week = _hours(required=True)
    windows = _windows(required=True)
    allow_split = ma.fields.Boolean(load_default=False)
    start_date = _start_date(required=True)
    urgency = ma.fields.Enum(Urgency, by_value=True, load_default=Urgency.ROUTINE)
    funding = ma.fields.Enum(Funding, by_value=True, required=True)
    preferences = ma.fields.Nested(
        PreferencesSchema, load_default=lambda: PreferencesSchema().load({})
    )

    class Meta:
        exclude = ("version",)


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"example": "Family now providing support"},
    )


class RequestJobLinkSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "job_1c9e..."})
    status_url = ma.fields.String(metadata={"example": "/jobs/job_1c9e..."})


class CareRequestSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "req_3b8f..."})
    seeker_id = ma.fields.String(
        allow_none=True, metadata={"description": "Hidden from auditors (see seeker_pseudonym)"}
    )
    seeker_pseudonym = ma.fields.String(
        allow_none=True, metadata={"description": "Shown to auditors only", "example": "S-1F0C..."}
    )
    status = ma.fields.Enum(RequestStatus, by_value=True, metadata={"example": "open"})
    status_reason = ma.fields.String(allow_none=True)
    services = ma.fields.List(ma.fields.String(), metadata={"example": ["companionship"]})
    hours_per_week = ma.fields.Float(metadata={"example": 4.5})
    windows = ma.fields.List(ma.fields.Nested(CareWindowSchema))
    allow_split = ma.fields.Boolean()
    start_date = ma.fields.Date()
    urgency = ma.fields.Enum(Urgency, by_value=True)
    funding = ma.fields.Enum(Funding, by_value=True)
    max_rate_pence = ma.fields.Integer(allow_none=True, metadata={"example": 2200})
    preferences = ma.fields.Nested(PreferencesSchema)
    notes = ma.fields.String(
        allow_none=True, metadata={"description": "Only for the partner and the agency's managers"}
    )
    outcode = ma.fields.String(metadata={"example": "BS3"})
    neighbourhood_id = ma.fields.String(allow_none=True)
    agency_id = ma.fields.String(
        allow_none=True, metadata={"description": "null: no agency covers this area (unmet need)"}
    )
    routed = ma.fields.Boolean(metadata={"description": "Whether an agency covers the request"})
    job = ma.fields.Nested(
        RequestJobLinkSchema, allow_none=True, metadata={"description": "The latest match job"}
    )
    matched_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer(metadata={"description": "For If-Match on PATCH", "example": 1})


class CareRequestQuerySchema(ma.Schema):
    # requests_service.SORTS' keys (tests/test_pagination.py holds them together)
    sort = sort_field(("created_at", "start_date", "urgency"))
    status = ma.fields.Enum(RequestStatus, by_value=True)
    urgency = ma.fields.Enum(Urgency, by_value=True)
    funding = ma.fields.Enum(Funding, by_value=True)
    service = ma.fields.String(
        validate=validate.Length(min=1, max=40), metadata={"example": "companionship"}
    )
    neighbourhood_id = ma.fields.String(validate=validate.Length(max=40))
    unrouted = ma.fields.Boolean(
        metadata={"description": "true: only requests no agency covers (unmet need)"}
    )
