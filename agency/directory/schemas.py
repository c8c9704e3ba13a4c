"""Request and response bodies for councils, agencies, neighbourhoods, postcodes, service types."""

import marshmallow as ma
from marshmallow import validate

from agency.directory.models import Locality, Sector, SupplierSize

SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Use lower-case words joined by -.")


def _id(prefix: str, description: str) -> ma.fields.String:
    return ma.fields.String(
        metadata={"description": description, "example": f"{prefix}_5f0c9a1e2b3d4c5e6f7a8b9c"}
    )


class CouncilSchema(ma.Schema):
    id = _id("cnc", "Council id")
    name = ma.fields.String(metadata={"example": "Bristol City Council"})
    slug = ma.fields.String(metadata={"example": "bristol"})
    area_key = ma.fields.String(
        allow_none=True, metadata={"description": "Shipped boundary key", "example": "bristol"}
    )


class OutcodeListField(ma.fields.List):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            ma.fields.String(validate=validate.Length(min=2, max=8)),
            validate=validate.Length(min=1, max=50),
            metadata={"description": "Whole outcodes (postcode districts)", "example": ["BS3"]},
            **kwargs,
        )


class NeighbourhoodSummarySchema(ma.Schema):
    id = _id("nbh", "Neighbourhood id")
    name = ma.fields.String(metadata={"example": "Bedminster"})
    slug = ma.fields.String(metadata={"example": "bedminster"})
    outcodes = ma.fields.Function(
        lambda hood: [o.outcode for o in hood.outcodes],
        metadata={"description": "Outcodes making up the neighbourhood", "example": ["BS3"]},
    )


class AgencySchema(ma.Schema):
    """The public face of an agency."""

    id = _id("agy", "Agency id")
    name = ma.fields.String(metadata={"example": "BS3 Community"})
    slug = ma.fields.String(metadata={"example": "bs3-community"})
    council_id = _id("cnc", "The council whose area it serves")
    locality = ma.fields.Enum(
        Locality, by_value=True, allow_none=True, metadata={"description": "Local-spend circle"}
    )
    size = ma.fields.Enum(SupplierSize, by_value=True, allow_none=True)
    sector = ma.fields.Enum(Sector, by_value=True, allow_none=True)
    neighbourhoods = ma.fields.List(ma.fields.Nested(NeighbourhoodSummarySchema))


class AgencyDetailSchema(AgencySchema):
    base_outcode = ma.fields.String(allow_none=True, metadata={"example": "BS3"})
    matching_weights = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(),
        metadata={"description": "Overrides of matching.Weights", "example": {"distance": 0.3}},
    )


class AgencyQuerySchema(ma.Schema):
    council_id = ma.fields.String(metadata={"description": "Only agencies of this council"})


class AgencyUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    slug = ma.fields.String(validate=[validate.Length(min=1, max=80), SLUG])
    base_outcode = ma.fields.String(allow_none=True, validate=validate.Length(min=2, max=8))
    locality = ma.fields.Enum(Locality, by_value=True, allow_none=True)
    size = ma.fields.Enum(SupplierSize, by_value=True, allow_none=True)
    sector = ma.fields.Enum(Sector, by_value=True, allow_none=True)
    matching_weights = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(allow_nan=False),
        metadata={
            "description": "matching.Weights field -> 0..1; the agency's own manager may set it",
            "example": {"distance": 0.3, "continuity": 0.2},
        },
    )


class AgencyCreateSchema(AgencyUpdateSchema):
    council_id = ma.fields.String(
        required=True, metadata={"example": "cnc_5f0c9a1e2b3d4c5e6f7a8b9c"}
    )
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), SLUG])


class AgencyRefSchema(ma.Schema):
    id = _id("agy", "Agency id")
    name = ma.fields.String(metadata={"example": "BS3 Community"})


class NeighbourhoodSchema(NeighbourhoodSummarySchema):
    council_id = _id("cnc", "Council id")
    agency = ma.fields.Nested(
        AgencyRefSchema, allow_none=True, metadata={"description": "Covering agency, or null"}
    )


class NeighbourhoodQuerySchema(ma.Schema):
    council_id = ma.fields.String(metadata={"description": "Only this council's"})
    agency_id = ma.fields.String(metadata={"description": "Only those this agency covers"})


class NeighbourhoodCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), SLUG])
    council_id = ma.fields.String(required=True)
    agency_id = ma.fields.String(
        load_default=None, allow_none=True, metadata={"description": "Covering agency, or null"}
    )
    outcodes = OutcodeListField(required=True)


class NeighbourhoodUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    agency_id = ma.fields.String(
        allow_none=True, metadata={"description": "New covering agency, or null for none"}
    )
    outcodes = OutcodeListField()


class NeighbourhoodRefSchema(ma.Schema):
    id = _id("nbh", "Neighbourhood id")
    name = ma.fields.String(metadata={"example": "Bedminster"})


class CouncilRefSchema(ma.Schema):
    id = _id("cnc", "Council id")
    name = ma.fields.String(metadata={"example": "Bristol City Council"})


class PostcodeSchema(ma.Schema):
    outcode = ma.fields.String(metadata={"example": "BS3"})
    sector = ma.fields.String(allow_none=True, metadata={"example": "BS3 4"})
    neighbourhood = ma.fields.Nested(NeighbourhoodRefSchema, allow_none=True)
    agency = ma.fields.Nested(AgencyRefSchema, allow_none=True)
    council = ma.fields.Nested(CouncilRefSchema, allow_none=True)


class ServiceTypeSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "companionship"})
    name = ma.fields.String(metadata={"example": "Companionship"})
    description = ma.fields.String(metadata={"example": "Company, conversation and contact."})
    regulated = ma.fields.Boolean(
        metadata={"description": "CQC-regulated: only registered providers may offer it"}
    )
