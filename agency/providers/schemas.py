"""Request and response bodies for micro-provider profiles, services and availability.

Compliance and vetting bodies are in ``compliance_schemas`` and ``vetting_schemas``.
"""

import marshmallow as ma
from marshmallow import validate

from agency.directory.models import Locality, Sector, SupplierSize
from agency.providers.models import OrganisationType
from agency.schedule import WINDOW_END, WINDOW_START

MIN_RATE_PENCE, MAX_RATE_PENCE = 500, 10_000  # £5 to £100 an hour: outside is a typo


def text_field(
    max_length: int, example: str, description: str, **kwargs: object
) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Length(min=1, max=max_length),
        metadata={"description": description, "example": example},
        **kwargs,
    )


class ProviderProfileSchema(ma.Schema):
    """The editable profile (PATCH takes any subset of it)."""

    trading_name = text_field(
        200, "Bedminster Companions", "Name the provider trades under", required=True
    )
    organisation_type = ma.fields.Enum(
        OrganisationType, by_value=True, required=True, metadata={"example": "sole_trader"}
    )
    size = ma.fields.Enum(
        SupplierSize, by_value=True, required=True, metadata={"example": "sole_trader"}
    )
    sector = ma.fields.Enum(Sector, by_value=True, required=True, metadata={"example": "private"})
    base_postcode = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=2, max=10),
        metadata={
            "description": "Where the provider works from; only its outcode is kept",
            "example": "BS3 4HT",
        },
    )
    travel_radius_km = ma.fields.Float(
        required=True,
        validate=validate.Range(min=0.5, max=50),
        metadata={"description": "How far the provider travels to people", "example": 5.0},
    )
    capacity_hours_per_week = ma.fields.Float(
        required=True,
        validate=validate.Range(min=0, max=80),
        metadata={"description": "Hours a week the provider can offer", "example": 20.0},
    )
    languages = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=2, max=35)),
        validate=validate.Length(max=20),
        load_default=list,
        metadata={"description": "Languages spoken (ISO 639-1 codes)", "example": ["en", "so"]},
    )
    skills = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=30),
        load_default=list,
        metadata={"description": "Skills and experience", "example": ["dementia awareness"]},
    )
    gender = ma.fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "Optional; some people ask for a provider of a given gender",
            "example": "female",
        },
    )
    bio = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={
            "description": "A few words for people choosing a provider",
            "example": "Retired nurse, happy to help with shopping and company.",
        },
    )

    @ma.post_load
    def normalise(self, data: dict, **_kwargs: object) -> dict:
        if "languages" in data:
            data["languages"] = sorted({lang.strip().lower() for lang in data["languages"]})
        if data.get("gender"):
            data["gender"] = data["gender"].strip().lower()
        return data


class ProviderRegistrationSchema(ProviderProfileSchema):
    email = ma.fields.Email(required=True, metadata={"example": "sam@bedminster.example"})
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=12, max=200),
        metadata={"description": "At least 12 characters", "example": "a long pass phrase"},
    )


class ServiceRateSchema(ma.Schema):
    service_key = text_field(
        40, "companionship", "A service type key (GET /service-types)", required=True
    )
    rate_pence = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=MIN_RATE_PENCE, max=MAX_RATE_PENCE),
        metadata={"description": "Hourly rate in pence", "example": 1800},
    )


class ServicesSchema(ma.Schema):
    services = ma.fields.List(
        ma.fields.Nested(ServiceRateSchema),
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "The full list of services offered and their rates"},
    )


class AvailabilityWindowSchema(ma.Schema):
    weekday = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": "0 = Monday ... 6 = Sunday", "example": 0},
    )
    start = ma.fields.String(required=True, validate=WINDOW_START, metadata={"example": "09:00"})
    end = ma.fields.String(
        required=True,
        validate=WINDOW_END,
        metadata={
            "description": "Europe/London wall time, on a 30-minute boundary; 24:00 ends the day",
            "example": "13:00",
        },
    )


class ExceptionSchema(ma.Schema):
    id = ma.fields.String(dump_only=True, metadata={"example": "off_3f9c..."})
    starts_on = ma.fields.Date(required=True, metadata={"example": "2026-12-21"})
    ends_on = ma.fields.Date(
        required=True, metadata={"description": "Inclusive", "example": "2027-01-02"}
    )
    reason = ma.fields.String(
        required=True,
        validate=validate.OneOf(["holiday", "sickness", "other"]),
        metadata={"example": "holiday"},
    )

    @ma.validates_schema
    def ends_after_start(self, data: dict, **_kwargs: object) -> None:
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("Must be on or after starts_on.", "ends_on")


class WeeklyAvailabilitySchema(ma.Schema):
    weekly = ma.fields.List(
        ma.fields.Nested(AvailabilityWindowSchema),
        required=True,
        validate=validate.Length(max=100),
        metadata={"description": "The weekly pattern (Europe/London wall time)"},
    )


class AvailabilitySchema(ma.Schema):
    weekly = ma.fields.List(
        ma.fields.Nested(AvailabilityWindowSchema),
        attribute="weekly_availability",
        metadata={"description": "The weekly pattern, windows merged"},
    )
    exceptions = ma.fields.List(
        ma.fields.Nested(ExceptionSchema), metadata={"description": "Dated time off"}
    )


class ProviderSchema(ProviderProfileSchema):
    id = ma.fields.String(metadata={"example": "prv_5d1c2e..."})
    base_outcode = ma.fields.String(metadata={"example": "BS3"})
    locality = ma.fields.Enum(
        Locality,
        by_value=True,
        metadata={
            "description": "Local-spend circle of the provider's base",
            "example": "council_area",
        },
    )
    locality_basis = ma.fields.String(metadata={"description": "How the locality was decided"})
    cqc_registration_number = ma.fields.String(
        allow_none=True,
        metadata={"description": "From the verified CQC registration item", "example": "1-10123"},
    )
    services = ma.fields.List(ma.fields.Nested(ServiceRateSchema))
    weekly_availability = ma.fields.List(ma.fields.Nested(AvailabilityWindowSchema))
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
