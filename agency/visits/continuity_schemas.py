"""Request and response bodies for planned visits, rotas and rota feeds."""

import marshmallow as ma
from marshmallow import validate

from agency.visits.feedback_models import Concern, FeedbackSide
from agency.visits.planned_models import PlannedStatus
from agency.visits.schemas import END, REASON, VisitCreateSchema


class PlannedVisitQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in PlannedStatus]))
    date_from = ma.fields.Date(metadata={"example": "2026-12-01"})
    date_to = ma.fields.Date(metadata={"example": "2026-12-31"})
    provider_id = ma.fields.String(validate=validate.Length(max=40))
    unacknowledged = ma.fields.Boolean(
        metadata={"description": "Only missed visits the manager has not dealt with yet"}
    )


class RotaQuerySchema(ma.Schema):
    date_from = ma.fields.Date(metadata={"description": "Default: today (Europe/London)"})
    date_to = ma.fields.Date(metadata={"description": "Default: four weeks ahead"})


class CancelPlannedVisitSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, **REASON, metadata={"example": "Ill; the agency is arranging cover"}
    )


class PlannedVisitSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "pvs_3c9a..."})
    arrangement_id = ma.fields.String()
    provider_id = ma.fields.String()
    seeker_id = ma.fields.String()
    terms_version = ma.fields.Integer(metadata={"description": "The terms that planned it"})
    date = ma.fields.Date(metadata={"description": "Europe/London"})
    start = ma.fields.String(attribute="start_time", metadata={"example": "09:00"})
    end = ma.fields.String(attribute="end_time", metadata={"example": "10:00"})
    starts_at = ma.fields.AwareDateTime(metadata={"description": "UTC"})
    ends_at = ma.fields.AwareDateTime(metadata={"description": "UTC"})
    minutes = ma.fields.Integer(metadata={"example": 60})
    status = ma.fields.String(
        metadata={"description": ", ".join(s.value for s in PlannedStatus), "example": "planned"}
    )
    visit_id = ma.fields.String(
        allow_none=True, metadata={"description": "The logged visit that matched it"}
    )
    missed_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    cancelled_at = ma.fields.AwareDateTime(allow_none=True)
    cancel_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why the provider cancelled (free text)"}
    )
    cover_provider_id = ma.fields.String(
        allow_none=True, metadata={"description": "The provider offered or covering the visit"}
    )
    cover_status = ma.fields.String(
        allow_none=True, metadata={"description": "offered, accepted or declined"}
    )
    cover_rates_pence = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        allow_none=True,
        metadata={
            "description": "The cover provider's hourly rate per service (pence), fixed at "
            "the offer: the cover visit is invoiced at these",
            "example": {"companionship": 1900},
        },
    )


class CoverOfferSchema(ma.Schema):
    provider_id = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "A provider the engine proposes as cover"},
    )


class CoverSuggestionSchema(ma.Schema):
    provider_id = ma.fields.String()
    rank = ma.fields.Integer(metadata={"example": 1})
    score = ma.fields.Float(allow_none=True, metadata={"example": 0.82})
    knows_seeker = ma.fields.Boolean(
        metadata={"description": "Already has (or had) an arrangement with the seeker"}
    )
    backup = ma.fields.Boolean(metadata={"description": "The seeker's named backup provider"})
    team = ma.fields.Boolean(metadata={"description": "On the arrangement's team"})
    explanation = ma.fields.Dict(
        metadata={"description": "Per feature: raw, normalised, weight, contribution"}
    )


class RotaFeedSchema(ma.Schema):
    url = ma.fields.String(
        metadata={"description": "Secret: shown once; subscribe to it from a calendar app"}
    )


class VisitRecordSchema(ma.Schema):
    provider_id = ma.fields.String()
    since = ma.fields.Date()
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Planned visits by status since that date"},
    )
    repeated_misses = ma.fields.Boolean()


class FeedbackCreateSchema(ma.Schema):
    rating = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "1-5; required from the seeker's side", "example": 5},
    )
    comment = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Private: the manager reads it", "example": "Kind and on time"},
    )
    concern = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf([c.value for c in Concern]),
        metadata={"description": "safety, access or safeguarding (the manager is told)"},
    )


class FeedbackQuerySchema(ma.Schema):
    concern = ma.fields.String(validate=validate.OneOf([c.value for c in Concern]))
    side = ma.fields.String(validate=validate.OneOf([s.value for s in FeedbackSide]))
    provider_id = ma.fields.String(validate=validate.Length(max=40))


class FeedbackSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "fbk_3c9a..."})
    visit_id = ma.fields.String()
    arrangement_id = ma.fields.String()
    provider_id = ma.fields.String()
    side = ma.fields.String(metadata={"description": "seeker or provider"})
    rating = ma.fields.Integer(allow_none=True, metadata={"example": 5})
    comment = ma.fields.String(allow_none=True, metadata={"description": "Free text"})
    concern = ma.fields.String(allow_none=True, metadata={"description": "The concern raised"})
    created_at = ma.fields.AwareDateTime()


class RatingSummarySchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Ratings from seekers"})
    average = ma.fields.Float(
        allow_none=True, metadata={"description": "Shown once there are shown_from ratings"}
    )
    shown_from = ma.fields.Integer(metadata={"example": 5})


class BackupProviderSchema(ma.Schema):
    seeker_id = ma.fields.String(dump_only=True)
    provider_id = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Covers first when eligible; null clears it"},
    )


class CoverVisitSchema(VisitCreateSchema):
    """The visit the cover provider made, on the planned visit's date: a logged visit's
    body (and its checks) without ``date``."""

    class Meta:
        exclude = ("date",)

    end = ma.fields.String(
        required=True, validate=END, metadata={"description": "Wall time", "example": "11:00"}
    )
    notes = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "What was done; no health details", "example": "Walk"},
    )


class TeamSchema(ma.Schema):
    arrangement_id = ma.fields.String(dump_only=True)
    provider_ids = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(max=4),
        metadata={
            "description": "Up to 4 other providers listed at the agency who know the seeker; "
            "cover suggestions count them as continuity",
            "example": ["prv_5d1e..."],
        },
    )
