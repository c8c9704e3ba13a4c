"""Bodies for recording ONS4 answers and for the outcomes report."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from agency.outcomes.models import MEASURES, Occasion
from agency.reports.schemas import ReportScopeSchema

QUESTIONS = {
    "life_satisfaction": "Overall, how satisfied are you with your life nowadays?",
    "worthwhile": "Overall, to what extent do you feel the things you do in your life are "
    "worthwhile?",
    "happiness": "Overall, how happy did you feel yesterday?",
    "anxiety": "Overall, how anxious did you feel yesterday? (lower is better)",
}


def _answer(measure: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=10),
        metadata={"description": f"{QUESTIONS[measure]} 0-10, optional", "example": 7},
    )


class AssessmentInSchema(ma.Schema):
    occasion = ma.fields.Enum(
        Occasion,
        by_value=True,
        required=True,
        metadata={"description": "baseline (start of the arrangement) or review"},
    )
    assessed_on = ma.fields.Date(
        required=True, metadata={"description": "When the questions were asked (not in future)"}
    )
    life_satisfaction = _answer("life_satisfaction")
    worthwhile = _answer("worthwhile")
    happiness = _answer("happiness")
    anxiety = _answer("anxiety")

    @ma.validates("assessed_on")
    def _not_in_future(self, value: dt.date, **_: object) -> None:
        if value > dt.date.today() + dt.timedelta(days=1):
            raise ma.ValidationError("Cannot be in the future.")

    @ma.validates_schema
    def _one_answer(self, data: dict[str, object], **_: object) -> None:
        if all(data.get(m) is None for m in MEASURES):
            raise ma.ValidationError("Give at least one of the four answers (each 0-10).")


class AssessmentSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "wba_3f2a..."})
    arrangement_id = ma.fields.String()
    occasion = ma.fields.Enum(Occasion, by_value=True)
    assessed_on = ma.fields.Date()
    life_satisfaction = ma.fields.Integer(
        allow_none=True, metadata={"description": "0-10, or null when not answered", "example": 6}
    )
    worthwhile = ma.fields.Integer(
        allow_none=True, metadata={"description": "0-10, or null when not answered", "example": 6}
    )
    happiness = ma.fields.Integer(
        allow_none=True, metadata={"description": "0-10, or null when not answered", "example": 6}
    )
    anxiety = ma.fields.Integer(
        allow_none=True, metadata={"description": "0-10, or null when not answered", "example": 6}
    )
    recorded_by = ma.fields.String(
        attribute="recorded_by.value",
        metadata={"description": "partner, manager or admin", "example": "partner"},
    )
    created_at = ma.fields.AwareDateTime()


class MeasureChangeSchema(ma.Schema):
    measure = ma.fields.String(
        metadata={
            "description": "life_satisfaction, worthwhile, happiness or anxiety",
            "example": "anxiety",
        }
    )
    pairs = ma.fields.Integer(allow_none=True, metadata={"description": "None when suppressed"})
    mean_change = ma.fields.Float(
        allow_none=True,
        metadata={"description": "Follow-up minus baseline, points", "example": -1.0},
    )
    ci_low = ma.fields.Float(allow_none=True, metadata={"description": "95 % CI, t-distribution"})
    ci_high = ma.fields.Float(
        allow_none=True, metadata={"description": "Upper end of the 95 % CI", "example": 0.96}
    )
    share_improving = ma.fields.Float(
        allow_none=True, metadata={"description": "Share better off (anxiety: lower)"}
    )
    suppressed = ma.fields.Boolean(metadata={"description": "Fewer than 5 pairs"})


class OutcomeGroupSchema(ma.Schema):
    group = ma.fields.String(
        metadata={"description": "all, a service mix or a funding route", "example": "self_funded"}
    )
    with_baseline = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Arrangements with a baseline (null: 1-4)", "example": 12},
    )
    with_follow_up = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Arrangements with a baseline and a review in the period (null: 1-4)",
            "example": 9,
        },
    )
    measures = ma.fields.List(ma.fields.Nested(MeasureChangeSchema))


class OutcomesReportSchema(ma.Schema):
    scope = ma.fields.Nested(ReportScopeSchema)
    suppression_threshold = ma.fields.Integer(
        metadata={"description": "Counts below this are withheld", "example": 5}
    )
    total = ma.fields.Nested(OutcomeGroupSchema)
    by_service_mix = ma.fields.List(ma.fields.Nested(OutcomeGroupSchema))
    by_funding = ma.fields.List(ma.fields.Nested(OutcomeGroupSchema))
