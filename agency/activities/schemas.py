"""Bodies for activities, suggestions, referrals and attendance."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate
from webargs.fields import DelimitedList

from agency.activities.models import INTERESTS
from agency.seekers.request_schemas import CareWindowSchema

_interest = ma.fields.String(validate=validate.OneOf(INTERESTS))


class ActivityInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    organiser = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "The organisation running it", "example": "Windmill Hill"},
    )
    outcode = ma.fields.String(
        required=True,
        validate=validate.Length(min=2, max=8),
        metadata={"description": "Outcode of the place (a full postcode is cut to it)"},
    )
    venue = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "A named venue, optional", "example": "Community hall"},
    )
    schedule = ma.fields.List(
        ma.fields.Nested(CareWindowSchema),
        required=True,
        validate=validate.Length(min=1, max=14),
        metadata={"description": "Weekly sessions (Europe/London)"},
    )
    accessibility_notes = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={
            "description": "Step-free access, hearing loop, toilets...",
            "example": "Step-free; hearing loop",
        },
    )
    cost_pence = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 100_000),
        metadata={"description": "Cost of one session in pence (0: free)", "example": 350},
    )
    capacity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 1000),
        metadata={"description": "How many referred people it can take", "example": 20},
    )
    interests = ma.fields.List(
        _interest,
        required=True,
        validate=validate.Length(min=1, max=len(INTERESTS)),
        metadata={"description": f"Among {', '.join(INTERESTS)}"},
    )


class ActivitySchema(ActivityInSchema):
    id = ma.fields.String(metadata={"example": "act_1c2d..."})
    agency_id = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class SuggestionQuerySchema(ma.Schema):
    interests = DelimitedList(
        _interest,
        required=True,
        validate=validate.Length(min=1, max=len(INTERESTS)),
        metadata={"description": "The seeker's stated interests, comma-separated (not stored)"},
    )
    max_km = ma.fields.Float(load_default=8.0, validate=validate.Range(0.5, 50))


class SessionSchema(ma.Schema):
    weekday = ma.fields.Integer(metadata={"description": "0 = Monday ... 6 = Sunday", "example": 1})
    start = ma.fields.String(
        metadata={"description": "Europe/London wall time", "example": "12:00"}
    )
    end = ma.fields.String(metadata={"description": "Europe/London wall time", "example": "14:00"})
    timing = ma.fields.String(metadata={"description": "free or alongside_care"})


class ActivitySuggestionSchema(ma.Schema):
    activity_id = ma.fields.String(
        metadata={"description": "The activity", "example": "act_1c2d..."}
    )
    name = ma.fields.String()
    distance_km = ma.fields.Float(
        metadata={"description": "From the seeker's outcode", "example": 1.2}
    )
    interests_matched = ma.fields.List(ma.fields.String())
    sessions = ma.fields.List(ma.fields.Nested(SessionSchema))
    cost_pence = ma.fields.Integer(
        metadata={"description": "Per session, in pence", "example": 350}
    )
    places_left = ma.fields.Integer(
        metadata={"description": "Capacity less referrals", "example": 7}
    )
    explanation = ma.fields.String(
        metadata={
            "description": "Why it is suggested, in a sentence",
            "example": "Shares 1 of your interests (food lunch club); 0.4 km away; free.",
        }
    )


class ReferralInSchema(ma.Schema):
    seeker_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))


class ReferralSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "arf_8e1f..."})
    activity_id = ma.fields.String(
        metadata={"description": "The activity", "example": "act_1c2d..."}
    )
    seeker_id = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class AttendanceInSchema(ma.Schema):
    session_date = ma.fields.Date(required=True)
    attended = ma.fields.Boolean(required=True)

    @ma.validates("session_date")
    def _not_in_future(self, value: dt.date, **_: object) -> None:
        if value > dt.date.today() + dt.timedelta(days=1):
            raise ma.ValidationError("Cannot record a session that has not happened.")


class AttendanceSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "att_4b7a..."})
    referral_id = ma.fields.String(
        metadata={"description": "The referral", "example": "arf_8e1f..."}
    )
    session_date = ma.fields.Date()
    attended = ma.fields.Boolean()
    recorded_at = ma.fields.AwareDateTime()
