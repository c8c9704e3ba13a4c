"""The equality monitoring body: every question optional, each with "prefer not to say"."""

from __future__ import annotations

import marshmallow as ma

from agency.equality.models import CHARACTERISTICS
from agency.reports.schemas import ReportScopeSchema


def _question(name: str, options: type) -> ma.fields.Enum:
    values = ", ".join(member.value for member in options)
    return ma.fields.Enum(
        options,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": f"{name.replace('_', ' ')}, optional: one of {values}"},
    )


MonitoringInSchema = ma.Schema.from_dict(
    {name: _question(name, options) for name, options in CHARACTERISTICS.items()},
    name="EqualityMonitoringIn",
)


class PopulationSchema(ma.Schema):
    people = ma.fields.Integer(allow_none=True, metadata={"description": "None: suppressed"})
    requests = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Care requests made in the period (null: suppressed)",
            "example": 19,
        },
    )
    matched_share = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Share of requests matched (null: suppressed or withheld)",
            "example": 0.74,
        },
    )
    median_days_to_match = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Median days from request to match (needs 5 matches)",
            "example": 2.0,
        },
    )
    unmet_need = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Requests neither matched nor withdrawn (null: 1-4)",
            "example": 5,
        },
    )
    life_satisfaction_pairs = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "ONS4 life satisfaction pairs (null: 1-4)", "example": 5},
    )
    mean_life_satisfaction_change = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Mean change, follow-up minus baseline (needs 5 pairs)",
            "example": 2.0,
        },
    )
    suppressed = ma.fields.Boolean()


class CellSchema(PopulationSchema):
    category = ma.fields.String(metadata={"example": "not_recorded"})


class CharacteristicSchema(ma.Schema):
    characteristic = ma.fields.String(metadata={"example": "disability"})
    categories = ma.fields.List(ma.fields.Nested(CellSchema))


class EqualAccessSchema(ma.Schema):
    scope = ma.fields.Nested(ReportScopeSchema)
    suppression_threshold = ma.fields.Integer(
        metadata={"description": "Cells below this many people are withheld", "example": 5}
    )
    suppression_rule = ma.fields.String(
        metadata={
            "description": "The rule, as stated on the chart",
            "example": "Cells of 1-4 people are suppressed...",
        }
    )
    population = ma.fields.Nested(PopulationSchema)
    characteristics = ma.fields.List(ma.fields.Nested(CharacteristicSchema))
