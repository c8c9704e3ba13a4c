"""Request and response bodies for introductions, suggestions and arrangements."""

import marshmallow as ma
from marshmallow import post_dump, validate, validates_schema

from agency.introductions.models import ArrangementStatus, IntroductionStatus
from agency.web import auditor_is_reading, seeker_pseudonym

REASON = {"validate": validate.Length(min=1, max=2000)}


class IntroductionApproveSchema(ma.Schema):
    suggestion_id = ma.fields.String(
        metadata={"description": "The suggestion to act on", "example": "sug_1a2b..."}
    )
    provider_id = ma.fields.String(
        metadata={
            "description": "Or any provider (needs off_list_reason when not suggested)",
            "example": "prv_9f3e...",
        }
    )
    off_list_reason = ma.fields.String(
        validate=validate.Length(max=2000),
        metadata={
            "description": "Why a provider the matcher did not suggest",
            "example": "Known to the family",
        },
    )
    note = ma.fields.String(
        validate=validate.Length(max=2000), metadata={"example": "Met at the hub; good fit"}
    )
    respond_within_hours = ma.fields.Integer(
        load_default=72,
        validate=validate.Range(min=1, max=24 * 14),
        metadata={"description": "Hours the provider has to answer", "example": 72},
    )

    @validates_schema
    def _one_target(self, data, **_kwargs):
        if bool(data.get("suggestion_id")) == bool(data.get("provider_id")):
            raise ma.ValidationError(
                "Give exactly one of suggestion_id or provider_id.", "suggestion_id"
            )


class DecisionReasonSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, **REASON, metadata={"example": "Lives too far for winter visits"}
    )


class IntroductionConfirmSchema(ma.Schema):
    start_date = ma.fields.Date(
        metadata={
            "description": "First day of care (default: the request's)",
            "example": "2026-12-07",
        }
    )
    isf_account_id = ma.fields.String(
        validate=validate.Length(max=40),
        metadata={"description": "ISF account paying, for ISF funding", "example": "isf_2c4d..."},
    )


class ArrangementEndSchema(DecisionReasonSchema):
    reopen_request = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Reopen the care request and match again", "example": True},
    )


class IntroductionQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in IntroductionStatus]))
    care_request_id = ma.fields.String(metadata={"example": "req_7a1c..."})
    provider_id = ma.fields.String(metadata={"example": "prv_9f3e..."})


class ArrangementQuerySchema(IntroductionQuerySchema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in ArrangementStatus]))


class IntroductionSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "itr_4f1c..."})
    care_request_id = ma.fields.String()
    provider_id = ma.fields.String()
    suggestion_id = ma.fields.String(allow_none=True)
    agency_id = ma.fields.String()
    status = ma.fields.String(metadata={"example": "awaiting_provider"})
    note = ma.fields.String(allow_none=True)
    off_list_reason = ma.fields.String(allow_none=True)
    respond_by = ma.fields.AwareDateTime(metadata={"description": "The provider answers by then"})
    provider_responded_at = ma.fields.AwareDateTime(allow_none=True)
    seeker_responded_at = ma.fields.AwareDateTime(allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"example": 1})
    created_at = ma.fields.AwareDateTime()
    arrangement_id = ma.fields.Function(
        lambda i: i.arrangement.id if i.arrangement else None,
        allow_none=True,
        metadata={"description": "The arrangement, once the seeker confirmed"},
    )


class ArrangementTermsSchema(ma.Schema):
    version = ma.fields.Integer(dump_only=True, metadata={"example": 2})
    services = ma.fields.List(
        ma.fields.String(), dump_only=True, metadata={"example": ["companionship"]}
    )
    rates_pence = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(validate=validate.Range(min=0, max=100_000)),
        metadata={
            "description": "Hourly rate per service, in pence",
            "example": {"companionship": 1900},
        },
    )
    minutes_per_week = ma.fields.Integer(
        validate=[validate.Range(min=30, max=7 * 24 * 60)], metadata={"example": 180}
    )
    schedule = ma.fields.List(
        ma.fields.Dict(), metadata={"example": [{"weekday": 1, "start": "10:00", "end": "13:00"}]}
    )
    effective_from = ma.fields.Date(required=True, metadata={"example": "2027-01-04"})
    change_reason = ma.fields.String(
        required=True, load_only=True, **REASON, metadata={"example": "One more hour"}
    )
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)

    @validates_schema
    def _half_hours(self, data, **_kwargs):
        if data.get("minutes_per_week", 0) % 30:
            raise ma.ValidationError("Whole half-hours only.", "minutes_per_week")


class ArrangementVersionCreateSchema(ArrangementTermsSchema):
    isf_account_id = ma.fields.String(
        load_only=True,
        metadata={
            "description": "ISF-funded only: the seeker's open ISF account at this agency to "
            "pay from (e.g. one opened after the arrangement was confirmed)",
            "example": "isf_5c1e...",
        },
    )


class ArrangementSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "arr_6b0e..."})
    introduction_id = ma.fields.String()
    care_request_id = ma.fields.String()
    seeker_id = ma.fields.String(metadata={"description": "Absent for auditors"})
    seeker_pseudonym = ma.fields.String(
        metadata={"description": "Auditors only: the seeker's pseudonym", "example": "S-1A2B3C4D5E"}
    )
    provider_id = ma.fields.String()
    agency_id = ma.fields.String()
    funding = ma.fields.String(metadata={"example": "isf"})
    isf_account_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"example": "active"})
    start_date = ma.fields.Date()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    end_reason = ma.fields.String(allow_none=True)
    current_version = ma.fields.Integer(metadata={"example": 1})
    terms = ma.fields.Nested(ArrangementTermsSchema)
    versions = ma.fields.List(ma.fields.Nested(ArrangementTermsSchema))

    @post_dump(pass_original=True)
    def _pseudonymous_for_auditors(self, data, original, **_kwargs):
        if auditor_is_reading():
            data.pop("seeker_id", None)
            data["seeker_pseudonym"] = seeker_pseudonym(original.seeker_id)
        return data
