"""Bodies of the two provider directories: an agency's own, and the public one."""

import marshmallow as ma
from marshmallow import validate

from agency.directory.schemas import AgencyRefSchema
from agency.pagination import sort_field
from agency.providers.models import ComplianceKind, ComplianceStatus, ListingStatus


class ListedServiceRateSchema(ma.Schema):
    service_key = ma.fields.String(metadata={"example": "companionship"})
    rate_pence = ma.fields.Integer(metadata={"description": "Hourly rate, pence", "example": 1800})


class PublicServiceRateSchema(ListedServiceRateSchema):
    name = ma.fields.String(metadata={"example": "Companionship"})


class AreaServedSchema(ma.Schema):
    base_outcode = ma.fields.String(metadata={"example": "BS3"})
    travel_radius_km = ma.fields.Float(metadata={"example": 5.0})


# --- an agency's directory --------------------------------------------------------------------


class AgencyProviderQuerySchema(ma.Schema):
    service = ma.fields.String(
        metadata={"description": "Service type key", "example": "shopping_errands"}
    )
    neighbourhood_id = ma.fields.String(
        metadata={"description": "Providers whose base outcode is one of the neighbourhood's"}
    )
    status = ma.fields.Enum(
        ListingStatus, by_value=True, metadata={"description": "Listing status at this agency"}
    )
    compliance_expiring_within_days = ma.fields.Integer(
        validate=validate.Range(min=0, max=366),
        metadata={"description": "Has a compliance item expiring within N days", "example": 30},
    )
    eligible = ma.fields.Boolean(
        metadata={
            "description": "Approved here, with verified in-date DBS and insurance (true) or not"
        }
    )
    # provider_directory.SORTABLE's keys (tests/test_pagination.py holds them together)
    sort = sort_field(("created_at", "trading_name"))


class DirectoryListingSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "lst_5f0c9a1e2b3d4c5e6f7a8b9c"})
    status = ma.fields.Enum(ListingStatus, by_value=True)


class DirectoryComplianceSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "cmp_5f0c9a1e2b3d4c5e6f7a8b9c"})
    kind = ma.fields.Enum(ComplianceKind, by_value=True)
    status = ma.fields.Enum(ComplianceStatus, by_value=True)
    expires_on = ma.fields.Date(allow_none=True)
    days_left = ma.fields.Integer(
        allow_none=True, metadata={"description": "Negative once expired", "example": 42}
    )


class AgencyProviderSchema(ma.Schema):
    id = ma.fields.String(attribute="provider.id", metadata={"example": "prv_5f0c9a1e2b3d"})
    trading_name = ma.fields.String(attribute="provider.trading_name")
    listing = ma.fields.Nested(DirectoryListingSchema)
    services = ma.fields.List(
        ma.fields.Nested(ListedServiceRateSchema), attribute="provider.services"
    )
    base_outcode = ma.fields.String(attribute="provider.base_outcode")
    travel_radius_km = ma.fields.Float(attribute="provider.travel_radius_km")
    capacity_hours_per_week = ma.fields.Float(attribute="provider.capacity_hours_per_week")
    compliance = ma.fields.List(ma.fields.Nested(DirectoryComplianceSchema))
    flags = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": "<kind>_expired for each expired item, <kind>_missing for a required "
            "kind (dbs, insurance) with no verified in-date item",
            "example": ["insurance_expired", "insurance_missing"],
        },
    )
    eligible = ma.fields.Boolean(
        metadata={"description": "May be introduced now: approved here, DBS and insurance in date"}
    )
    created_at = ma.fields.AwareDateTime(attribute="provider.created_at")


# --- the public directory ---------------------------------------------------------------------


class PublicProviderQuerySchema(ma.Schema):
    service = ma.fields.String(
        metadata={"description": "Service type key", "example": "companionship"}
    )
    agency_id = ma.fields.String(metadata={"description": "Listed (approved) at this agency"})
    outcode = ma.fields.String(
        validate=validate.Length(min=2, max=8),
        metadata={"description": "Travels to this outcode's centre", "example": "BS3"},
    )
    language = ma.fields.String(
        validate=validate.Length(min=2, max=40),
        metadata={"description": "Speaks this language", "example": "so"},
    )


class PublicProviderSchema(ma.Schema):
    """What a care seeker may see: never contact details, compliance evidence or exact place."""

    id = ma.fields.String(attribute="provider.id", metadata={"example": "prv_5f0c9a1e2b3d"})
    trading_name = ma.fields.String(attribute="provider.trading_name")
    services = ma.fields.List(ma.fields.Nested(PublicServiceRateSchema))
    languages = ma.fields.List(ma.fields.String(), attribute="provider.languages")
    gender = ma.fields.String(allow_none=True, attribute="provider.gender")
    bio = ma.fields.String(allow_none=True, attribute="provider.bio")
    area_served = ma.fields.Nested(
        AreaServedSchema,
        attribute="provider",
        metadata={"description": "Base outcode and how far they travel"},
    )
    agencies = ma.fields.List(
        ma.fields.Nested(AgencyRefSchema), metadata={"description": "Agencies listing them"}
    )
