"""Open Referral UK (v3) shapes: the paged envelope, services and taxonomy terms."""

import marshmallow as ma
from marshmallow import validate

MAX_PER_PAGE = 100


class OrukPageQuerySchema(ma.Schema):
    page = ma.fields.Integer(
        load_default=1, validate=validate.Range(min=1), metadata={"example": 1}
    )
    per_page = ma.fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}", "example": 50},
    )


class OrukServiceQuerySchema(OrukPageQuerySchema):
    taxonomy_term_id = ma.fields.String(
        metadata={"description": "Only services with this term", "example": "companionship"}
    )
    postcode = ma.fields.String(
        validate=validate.Length(min=2, max=10),
        metadata={"description": "Only services that travel to this postcode", "example": "BS3"},
    )


class OrukTaxonomyTermSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "companionship"})
    code = ma.fields.String(metadata={"example": "companionship"})
    name = ma.fields.String(metadata={"example": "Companionship"})
    description = ma.fields.String()
    parent_id = ma.fields.String(allow_none=True)
    taxonomy = ma.fields.String(metadata={"example": "introductory-agency-services"})
    vocabulary = ma.fields.String(metadata={"example": "introductory-agency-services"})
    language = ma.fields.String(metadata={"example": "en"})


class OrukOrganizationSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "prv_5f0c9a1e2b3d4c5e6f7a8b9c"})
    name = ma.fields.String(metadata={"example": "Aled's Help"})


class OrukServiceAreaSchema(ma.Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    service_id = ma.fields.String()
    name = ma.fields.String(metadata={"description": "Base outcode", "example": "BS3"})
    description = ma.fields.String(
        metadata={"example": "Up to 5 km from the centre of postcode district BS3"}
    )
    extent = ma.fields.String(allow_none=True)
    extent_type = ma.fields.String(allow_none=True)
    uri = ma.fields.String(allow_none=True)


class OrukLanguageSchema(ma.Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    service_id = ma.fields.String()
    name = ma.fields.String(metadata={"example": "cy"})
    code = ma.fields.String(allow_none=True, metadata={"example": "cy"})


class OrukCostOptionSchema(ma.Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    service_id = ma.fields.String()
    option = ma.fields.String(metadata={"example": "Companionship"})
    currency = ma.fields.String(metadata={"example": "GBP"})
    amount = ma.fields.Float(metadata={"description": "Pounds", "example": 18.0})
    amount_description = ma.fields.String(metadata={"example": "per hour"})


class OrukAttributeSchema(ma.Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    link_id = ma.fields.String()
    link_type = ma.fields.String(metadata={"example": "service"})
    link_entity = ma.fields.String(metadata={"example": "service"})
    taxonomy_term_id = ma.fields.String(metadata={"example": "companionship"})
    value = ma.fields.String(allow_none=True)
    taxonomy_term = ma.fields.Nested(OrukTaxonomyTermSchema)


class OrukServiceSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "prv_5f0c9a1e2b3d4c5e6f7a8b9c"})
    organization_id = ma.fields.String()
    name = ma.fields.String(metadata={"description": "Trading name", "example": "Aled's Help"})
    description = ma.fields.String(allow_none=True, metadata={"description": "The provider's bio"})
    status = ma.fields.String(metadata={"example": "active"})
    url = ma.fields.String(allow_none=True)
    email = ma.fields.String(
        allow_none=True, metadata={"description": "Always null: ask the agency"}
    )
    fees_description = ma.fields.String(
        allow_none=True, metadata={"example": "From £18.00 per hour"}
    )
    last_modified = ma.fields.AwareDateTime()
    organization = ma.fields.Nested(OrukOrganizationSchema)
    service_areas = ma.fields.List(ma.fields.Nested(OrukServiceAreaSchema))
    languages = ma.fields.List(ma.fields.Nested(OrukLanguageSchema))
    cost_options = ma.fields.List(ma.fields.Nested(OrukCostOptionSchema))
    attributes = ma.fields.List(ma.fields.Nested(OrukAttributeSchema))


class _OrukPageSchema(ma.Schema):
    total_items = ma.fields.Integer(metadata={"example": 42})
    total_pages = ma.fields.Integer(metadata={"example": 1})
    page_number = ma.fields.Integer(metadata={"example": 1})
    size = ma.fields.Integer(metadata={"description": "Requested page size", "example": 50})
    first_page = ma.fields.Boolean()
    last_page = ma.fields.Boolean()
    empty = ma.fields.Boolean()


class OrukServicePageSchema(_OrukPageSchema):
    contents = ma.fields.List(ma.fields.Nested(OrukServiceSchema))


class OrukTaxonomyTermPageSchema(_OrukPageSchema):
    contents = ma.fields.List(ma.fields.Nested(OrukTaxonomyTermSchema))


class OrukInfoSchema(ma.Schema):
    version = ma.fields.String(metadata={"example": "3.0"})
    profile = ma.fields.String(metadata={"example": "https://openreferraluk.org"})
    openapi_url = ma.fields.String(metadata={"example": "/openapi.json"})
