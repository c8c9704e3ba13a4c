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
    requests = ma.fields.Integer(allow_none=True)
    matched_share = ma.fields.Float(allow_none=True)
    median_days_to_match = ma.fields.Float(allow_none=True)
    unmet_need = ma.fields.Integer(allow_none=True)
    life_satisfaction_pairs = ma.fields.Integer(allow_none=True)
    mean_life_satisfaction_change = ma.fields.Float(allow_none=True)
    suppressed = ma.fields.Boolean()


class CellSchema(PopulationSchema):
    category = ma.fields.String(metadata={"example": "not_recorded"})


class CharacteristicSchema(ma.Schema):
    characteristic = ma.fields.String(metadata={"example": "disability"})
    categories = ma.fields.List(ma.fields.Nested(CellSchema))


class EqualAccessSchema(ma.Schema):
    scope = ma.fields.Nested(ReportScopeSchema)
    suppression_threshold = ma.fields.Integer()
    suppression_rule = ma.fields.String()
    population = ma.fields.Nested(PopulationSchema)
    characteristics = ma.fields.List(ma.fields.Nested(CharacteristicSchema))
