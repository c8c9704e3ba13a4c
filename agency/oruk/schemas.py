"""Open Referral UK (uk-profile, HSDS 3.0) shapes: queries, the paged envelope, records.

Query schemas refuse unknown parameters (422): a filter we do not support is never
silently ignored. Response schemas list every field we publish; optional fields we do
not have are left out of the dicts (marshmallow then leaves them out too), never null.
"""

import marshmallow as ma
from marshmallow import validate

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
UUID = {"format": "uuid"}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


class OrukPageQuerySchema(ma.Schema):
    page = ma.fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=MAX_PAGE), metadata={"example": 1}
    )
    per_page = ma.fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}", "example": 50},
    )


class _Day(ma.fields.String):
    """``MO``..``SU`` (RFC 5545) or the English day name, any case."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        text = str(super()._deserialize(value, attr, data, **kwargs)).strip().lower()
        day = _DAY_NAMES.get(text) or (text.upper() if text.upper() in DAYS else None)
        if day is None:
            raise ma.ValidationError("A day: MO, TU, WE, TH, FR, SA, SU or its English name.")
        return day


class _Unsupported(ma.fields.Raw):
    """A uk-profile parameter whose data we do not hold: refused, never ignored."""

    def __init__(self, reason: str) -> None:
        super().__init__(metadata={"description": f"Not supported (422): {reason}"})
        self.reason = reason

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        raise ma.ValidationError(f"Not supported: {self.reason}")


class OrukServiceQuerySchema(OrukPageQuerySchema):
    search = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Words in the name, description or service types"},
    )
    text = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Same as search (ORUK v1 name)"},
    )
    taxonomy_term_id = ma.fields.String(
        validate=validate.Length(max=60),
        metadata={"description": "Only services with this term (its UUID or code)"},
    )
    taxonomy_id = ma.fields.String(
        validate=validate.Length(max=60),
        metadata={"description": "Only services with a term of this taxonomy"},
    )
    postcode = ma.fields.String(
        validate=validate.Length(min=2, max=10),
        metadata={
            "description": "Only services whose area (travel radius) covers this postcode",
            "example": "BS3 4AB",
        },
    )
    proximity = ma.fields.Float(
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "With postcode: metres from its centroid to the service"},
    )
    day = _Day(metadata={"description": "Available on this day (MO..SU)", "example": "TU"})
    start_time = ma.fields.Time(
        format="%H:%M", metadata={"description": "Available from (HH:MM, London time)"}
    )
    end_time = ma.fields.Time(
        format="%H:%M", metadata={"description": "Available until (HH:MM, London time)"}
    )
    modified_after = ma.fields.AwareDateTime(
        default_timezone=None,
        metadata={"description": "Only services modified on or after (ISO 8601 with offset)"},
    )
    full = ma.fields.Boolean(
        load_default=False, metadata={"description": "Fully nested services in the list"}
    )
    minimal = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only id, name, status, url, last_modified"}
    )
    organization_id = ma.fields.String(
        validate=validate.Length(min=1, max=60),
        metadata={
            "description": "Only this organisation's services (its UUID): a provider's one "
            "service, or an agency's community activities",
            "example": "3f1c2b9e-8d4a-5c6f-9b1e-2a7d4c8e6f10",
        },
    )
    minimum_age = _Unsupported("providers publish no age limits")
    maximum_age = _Unsupported("providers publish no age limits")
    format = _Unsupported("only JSON pages are offered")

    @ma.post_load
    def merge_text(self, data, **kwargs):  # type: ignore[no-untyped-def]
        if data.get("text") and not data.get("search"):
            data["search"] = data["text"]
        return data


class OrukTaxonomyTermSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    code = ma.fields.String(metadata={"example": "companionship"})
    term = ma.fields.String(metadata={"example": "Companionship"})
    name = ma.fields.String(metadata={"example": "Companionship"})
    description = ma.fields.String()
    taxonomy = ma.fields.String(metadata={"example": "introductory-agency-services"})
    taxonomy_id = ma.fields.String(metadata=UUID)
    vocabulary = ma.fields.String(metadata={"example": "introductory-agency-services"})
    language = ma.fields.String(metadata={"example": "en"})


class OrukTaxonomySchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    name = ma.fields.String()
    description = ma.fields.String()
    version = ma.fields.String(metadata={"example": "1"})
    taxonomy_terms = ma.fields.List(ma.fields.Nested(OrukTaxonomyTermSchema))


class OrukOrganizationSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    name = ma.fields.String(metadata={"example": "Aled's Help"})
    description = ma.fields.String()


class OrukServiceAreaSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    name = ma.fields.String(metadata={"example": "Up to 5 km from the centre of ... BS3"})
    service_area = ma.fields.String(metadata={"description": "Same text as name"})
    extent = ma.fields.String(metadata={"description": "GeoJSON Polygon of the travel radius"})
    extent_type = ma.fields.String(metadata={"example": "geojson"})


class OrukScheduleSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    freq = ma.fields.String(metadata={"example": "WEEKLY"})
    interval = ma.fields.Integer(metadata={"example": 1})
    byday = ma.fields.String(metadata={"example": "MO,TU"})
    opens_at = ma.fields.String(metadata={"example": "09:00"})
    closes_at = ma.fields.String(metadata={"example": "12:00"})
    description = ma.fields.String()


class OrukLocationSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    name = ma.fields.String(metadata={"example": "Postcode district BS3"})
    description = ma.fields.String()
    latitude = ma.fields.Float(
        metadata={"description": "The district's centroid", "example": 51.441}
    )
    longitude = ma.fields.Float(
        metadata={"description": "The district's centroid", "example": -2.601}
    )
    location_type = ma.fields.String(metadata={"example": "virtual"})


class OrukServiceAtLocationRefSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    location_id = ma.fields.String(metadata=UUID)
    location = ma.fields.Nested(OrukLocationSchema)


class OrukLanguageSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    name = ma.fields.String(metadata={"example": "cy"})
    code = ma.fields.String(metadata={"example": "cy"})


class OrukCostOptionSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    option = ma.fields.String(metadata={"example": "Companionship"})
    amount = ma.fields.Float(metadata={"description": "Pounds", "example": 18.0})
    amount_description = ma.fields.String(metadata={"example": "per hour"})
    currency = ma.fields.String(metadata={"example": "GBP"})


class OrukAttributeSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    link_id = ma.fields.String(metadata=UUID)
    link_type = ma.fields.String(metadata={"example": "service_type"})
    link_entity = ma.fields.String(metadata={"example": "service"})
    taxonomy_term_id = ma.fields.String(metadata=UUID)
    taxonomy_term = ma.fields.Nested(OrukTaxonomyTermSchema)


class OrukCapacityByServiceSchema(ma.Schema):
    taxonomy_term_id = ma.fields.String(metadata=UUID)
    service_type = ma.fields.String(metadata={"example": "companionship"})
    weekly_hours_spare = ma.fields.Float(metadata={"example": 10.0})


class OrukCapacitySchema(ma.Schema):
    """Extension (not in the uk-profile): spare weekly hours; docs/oruk.md."""

    as_of = ma.fields.String(metadata={"format": "date"})
    weekly_hours_available = ma.fields.Float(
        metadata={"description": "Weekly availability, capped by hours taken on", "example": 16.0}
    )
    weekly_hours_arranged = ma.fields.Float(
        metadata={"description": "Active arrangements' weekly hours", "example": 6.0}
    )
    weekly_hours_spare = ma.fields.Float(
        metadata={"description": "Available minus arranged, at least 0", "example": 10.0}
    )
    by_service = ma.fields.List(ma.fields.Nested(OrukCapacityByServiceSchema))


class OrukServiceListItemSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    organization_id = ma.fields.String(metadata=UUID)
    name = ma.fields.String(metadata={"description": "Trading name", "example": "Aled's Help"})
    description = ma.fields.String(metadata={"description": "The provider's bio, or a summary"})
    url = ma.fields.String(metadata={"format": "uri"})
    status = ma.fields.String(metadata={"example": "active"})
    fees = ma.fields.String(metadata={"example": "From £18.00 per hour"})
    last_modified = ma.fields.String(metadata={"format": "date-time"})
    organization = ma.fields.Nested(OrukOrganizationSchema)


class OrukServiceSchema(OrukServiceListItemSchema):
    schedules = ma.fields.List(ma.fields.Nested(OrukScheduleSchema))
    service_areas = ma.fields.List(ma.fields.Nested(OrukServiceAreaSchema))
    service_at_locations = ma.fields.List(ma.fields.Nested(OrukServiceAtLocationRefSchema))
    languages = ma.fields.List(ma.fields.Nested(OrukLanguageSchema))
    cost_options = ma.fields.List(ma.fields.Nested(OrukCostOptionSchema))
    attributes = ma.fields.List(ma.fields.Nested(OrukAttributeSchema))
    capacity = ma.fields.Nested(OrukCapacitySchema)


class OrukServiceAtLocationSchema(ma.Schema):
    id = ma.fields.String(metadata=UUID)
    service_id = ma.fields.String(metadata=UUID)
    location_id = ma.fields.String(metadata=UUID)
    location = ma.fields.Nested(OrukLocationSchema)
    service = ma.fields.Nested(OrukServiceSchema)


class _OrukPageSchema(ma.Schema):
    total_items = ma.fields.Integer(metadata={"example": 42})
    total_pages = ma.fields.Integer(metadata={"example": 1})
    page_number = ma.fields.Integer(metadata={"example": 1})
    size = ma.fields.Integer(metadata={"description": "Items on this page", "example": 42})
    first_page = ma.fields.Boolean()
    last_page = ma.fields.Boolean()
    empty = ma.fields.Boolean()


class OrukServicePageSchema(_OrukPageSchema):
    contents = ma.fields.List(
        ma.fields.Nested(OrukServiceSchema),
        metadata={"description": "List items; fully nested with full=true"},
    )


class OrukServiceAtLocationPageSchema(_OrukPageSchema):
    contents = ma.fields.List(ma.fields.Nested(OrukServiceAtLocationSchema))


class OrukTaxonomyPageSchema(_OrukPageSchema):
    contents = ma.fields.List(ma.fields.Nested(OrukTaxonomySchema))


class OrukTaxonomyTermPageSchema(_OrukPageSchema):
    contents = ma.fields.List(ma.fields.Nested(OrukTaxonomyTermSchema))


class OrukInfoSchema(ma.Schema):
    version = ma.fields.String(metadata={"example": "3.0"})
    profile = ma.fields.String(metadata={"format": "uri", "example": "https://openreferraluk.org/"})
    openapi_url = ma.fields.String(
        metadata={"format": "uri", "example": "https://api.example/openapi.json"}
    )
