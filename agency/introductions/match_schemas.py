"""Bodies of the matching endpoints: suggestions with explanations, plans, why-not."""

import marshmallow as ma


class FeatureSchema(ma.Schema):
    raw = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "The feature's value in its own unit (null when not known)",
            "example": 1.8,
        },
    )
    normalised = ma.fields.Float(
        metadata={"description": "0..1, higher is better", "example": 0.82}
    )
    weight = ma.fields.Float(metadata={"example": 0.25})
    contribution = ma.fields.Float(
        metadata={"description": "weight x normalised", "example": 0.205}
    )


class SuggestionSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "sug_41c0..."})
    care_request_id = ma.fields.String(metadata={"example": "req_9a1b..."})
    provider_id = ma.fields.String(metadata={"example": "prv_77d2..."})
    rank = ma.fields.Integer(metadata={"example": 1})
    score = ma.fields.Float(
        metadata={"description": "Sum of the contributions (0..1)", "example": 0.78}
    )
    distance_km = ma.fields.Float(allow_none=True, metadata={"example": 1.8})
    status = ma.fields.String(
        metadata={"example": "active", "enum": ["active", "superseded", "rejected", "introduced"]}
    )
    status_reason = ma.fields.String(allow_none=True)
    explanation = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(FeatureSchema),
        metadata={"description": "Each feature's value, weight and contribution to the score"},
    )
    created_at = ma.fields.AwareDateTime()


class SuggestionQuerySchema(ma.Schema):
    status = ma.fields.String(
        load_default="active",
        validate=ma.validate.OneOf(["active", "superseded", "rejected", "introduced", "all"]),
        metadata={"description": "Which suggestions to list (default: the latest ranking)"},
    )


class JobLinkSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "job_0c4e..."})
    status = ma.fields.String(metadata={"example": "queued"})
    status_url = ma.fields.String(metadata={"example": "/jobs/job_0c4e..."})


class MatchingStatusSchema(ma.Schema):
    care_request_id = ma.fields.String()
    request_status = ma.fields.String(metadata={"example": "matching"})
    routed = ma.fields.Boolean(metadata={"description": "False when no agency covers the area"})
    suggestions = ma.fields.Integer(
        metadata={"description": "How many providers are suggested", "example": 12}
    )
    last_job = ma.fields.Nested(JobLinkSchema, allow_none=True)


class WhyNotSchema(ma.Schema):
    provider_id = ma.fields.String()
    eligible = ma.fields.Boolean(metadata={"example": False})
    failed_constraints = ma.fields.List(
        ma.fields.String(), metadata={"example": ["compliance_expired", "too_far"]}
    )
    descriptions = ma.fields.List(ma.fields.String())


class MatchPlanSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "pln_5e2f..."})
    agency_id = ma.fields.String()
    figures = ma.fields.Dict(
        metadata={"example": {"hours_requested": 120.0, "hours_placed": 114.5, "gap": 0.002}}
    )
    placements = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "example": [{"care_request_id": "req_..", "provider_id": "prv_..", "hours": 4.0}]
        },
    )
    job_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
