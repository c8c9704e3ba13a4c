"""Request and response bodies for listings, vetting decisions and ISF approval."""

import marshmallow as ma
from marshmallow import validate

from agency.pagination import sort_field
from agency.providers.models import ListingStatus
from agency.providers.schemas import text_field
from agency.providers.vetting import DECISIONS, LISTING_SORTS


class ApplySchema(ma.Schema):
    agency_id = text_field(40, "agy_81fa...", "The agency to apply to", required=True)


class ListingQuerySchema(ma.Schema):
    sort = sort_field(LISTING_SORTS)
    status = ma.fields.Enum(ListingStatus, by_value=True, metadata={"example": "applied"})
    agency_id = ma.fields.String(metadata={"example": "agy_81fa..."})
    provider_id = ma.fields.String(metadata={"example": "prv_5d1c..."})


class VettingDecisionSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "vet_1c2d..."})
    from_status = ma.fields.String(allow_none=True, metadata={"example": "applied"})
    to_status = ma.fields.String(metadata={"example": "approved"})
    reason = ma.fields.String(allow_none=True)
    decided_by = ma.fields.String(metadata={"example": "usr_5d1c..."})
    created_at = ma.fields.AwareDateTime()


class ListingSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "lst_7e3a..."})
    provider_id = ma.fields.String(metadata={"example": "prv_5d1c..."})
    trading_name = ma.fields.String(attribute="provider.trading_name")
    agency_id = ma.fields.String(metadata={"example": "agy_81fa..."})
    council_id = ma.fields.String(metadata={"example": "cnc_0a1b..."})
    status = ma.fields.Enum(ListingStatus, by_value=True, metadata={"example": "applied"})
    reason = ma.fields.String(allow_none=True, metadata={"description": "Reason of the last move"})
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class ListingDetailSchema(ListingSchema):
    decisions = ma.fields.List(
        ma.fields.Nested(VettingDecisionSchema),
        metadata={"description": "Every move, oldest first"},
    )


class DecisionSchema(ma.Schema):
    decision = ma.fields.String(
        required=True, validate=validate.OneOf(DECISIONS), metadata={"example": "approve"}
    )
    reason = ma.fields.String(
        validate=validate.Length(min=1, max=2000),
        load_default=None,
        metadata={
            "description": "Required for every decision but approve",
            "example": "References checked.",
        },
    )

    @ma.validates_schema
    def reason_given(self, data: dict, **_kwargs: object) -> None:
        if data.get("decision") not in (None, "approve") and not (data.get("reason") or "").strip():
            raise ma.ValidationError("Give a reason for this decision.", "reason")


class ResubmitSchema(ma.Schema):
    note = ma.fields.String(
        validate=validate.Length(max=2000),
        load_default=None,
        metadata={"example": "Insurance certificate added."},
    )


class IsfApprovalInSchema(ma.Schema):
    council_id = text_field(40, "cnc_0a1b...", "The council whose process decided", required=True)
    approved = ma.fields.Boolean(required=True, metadata={"example": True})
    reason = ma.fields.String(
        validate=validate.Length(min=1, max=2000),
        load_default=None,
        metadata={"description": "Required when not approved", "example": "Panel of 3 Dec"},
    )

    @ma.validates_schema
    def reason_when_refused(self, data: dict, **_kwargs: object) -> None:
        if data.get("approved") is False and not (data.get("reason") or "").strip():
            raise ma.ValidationError("Give a reason when ISF approval is refused.", "reason")


class IsfApprovalSchema(ma.Schema):
    council_id = ma.fields.String(metadata={"example": "cnc_0a1b..."})
    approved = ma.fields.Boolean(metadata={"example": True})
    reason = ma.fields.String(allow_none=True)
    recorded_by = ma.fields.String(metadata={"example": "usr_5d1c..."})
    updated_at = ma.fields.AwareDateTime()
