"""Request and response bodies for compliance documents and eligibility."""

import marshmallow as ma
from marshmallow import validate

from agency.providers.models import ComplianceKind
from agency.providers.schemas import text_field


class ComplianceItemSchema(ma.Schema):
    id = ma.fields.String(dump_only=True, metadata={"example": "cmp_9a1b..."})
    kind = ma.fields.Enum(ComplianceKind, by_value=True, required=True, metadata={"example": "dbs"})
    title = text_field(200, "Enhanced DBS certificate", "What the document is", allow_none=True)
    level = text_field(40, "enhanced", "DBS level (basic, standard, enhanced...)", allow_none=True)
    evidence_reference = text_field(
        200, "001234567890", "Certificate, policy or registration number", required=True
    )
    issued_on = ma.fields.Date(allow_none=True, metadata={"example": "2025-03-01"})
    expires_on = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "Required for insurance; empty when it does not expire",
            "example": "2027-02-28",
        },
    )
    status = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "pending until an agency manager verifies or rejects it",
            "example": "pending",
        },
    )
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    verified_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)

    @ma.validates_schema
    def expires_after_issue(self, data: dict, **_kwargs: object) -> None:
        if (
            data.get("issued_on")
            and data.get("expires_on")
            and data["expires_on"] < data["issued_on"]
        ):
            raise ma.ValidationError("Must be on or after issued_on.", "expires_on")


class ComplianceItemChangesSchema(ComplianceItemSchema):
    """Any subset of the item's fields (used partially)."""


class VerifySchema(ma.Schema):
    note = ma.fields.String(
        validate=validate.Length(max=2000),
        load_default=None,
        metadata={"example": "Checked on the DBS update service."},
    )


class RejectSchema(ma.Schema):
    reason = text_field(2000, "The certificate number does not match.", "Why", required=True)


class EligibilityQuerySchema(ma.Schema):
    on = ma.fields.Date(
        metadata={
            "description": "Date to judge (default: today in London)",
            "example": "2026-12-07",
        }
    )
    agency_id = ma.fields.String(metadata={"description": "Judge approval by this agency only"})


class EligibilityReasonSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "compliance_expired"})
    message = ma.fields.String(metadata={"example": "The dbs item cmp_... expired on 2026-01-01."})
    kind = ma.fields.String(metadata={"example": "dbs"})
    item_id = ma.fields.String(metadata={"example": "cmp_9a1b..."})
    date = ma.fields.String(metadata={"example": "2026-01-01"})
    agency_id = ma.fields.String(allow_none=True)


class EligibilitySchema(ma.Schema):
    provider_id = ma.fields.String()
    as_of = ma.fields.Date()
    matchable = ma.fields.Boolean(metadata={"description": "True when there is no reason below"})
    compliance_valid_until = ma.fields.Date(
        allow_none=True,
        metadata={"description": "Earliest expiry of the required items; null when one is missing"},
    )
    approved_agency_ids = ma.fields.List(ma.fields.String())
    reasons = ma.fields.List(ma.fields.Nested(EligibilityReasonSchema))
