"""The audit log as the API shows it."""

import marshmallow as ma
from marshmallow import post_dump

from agency.web import auditor_is_reading, seeker_pseudonym


class AuditQuerySchema(ma.Schema):
    object_id = ma.fields.String(
        metadata={"description": "Only entries about this object", "example": "itr_4f1c..."}
    )
    action = ma.fields.String(
        metadata={"description": "Only this action", "example": "introduction.accepted"}
    )


class AuditEntrySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "aud_0c1d..."})
    sequence = ma.fields.Integer(metadata={"description": "Position in the chain", "example": 42})
    at = ma.fields.AwareDateTime()
    principal_kind = ma.fields.String(
        metadata={
            "description": "manager, provider, partner, admin or system",
            "example": "manager",
        }
    )
    principal_id = ma.fields.String(allow_none=True, metadata={"example": "usr_5d1c..."})
    action = ma.fields.String(metadata={"example": "introduction.approved"})
    object_type = ma.fields.String(metadata={"example": "introductions"})
    object_id = ma.fields.String(metadata={"example": "itr_4f1c..."})
    agency_id = ma.fields.String(allow_none=True)
    council_id = ma.fields.String(allow_none=True)
    before = ma.fields.Dict(allow_none=True, metadata={"example": {"status": "awaiting_provider"}})
    after = ma.fields.Dict(allow_none=True, metadata={"example": {"status": "awaiting_seeker"}})
    prev_hash = ma.fields.String(metadata={"description": "The previous entry's hash"})
    hash = ma.fields.String(
        metadata={
            "description": "HMAC-SHA-256 (under the operator's audit key) of this entry and "
            "prev_hash; entries from before the chain was keyed carry plain SHA-256"
        }
    )

    @post_dump
    def _no_seeker_ids_for_auditors(self, data, **_kwargs):
        """Auditors read seekers only by pseudonym, in the trail too."""
        if not auditor_is_reading():
            return data
        if data.get("object_type") == "care_seekers":
            data["object_id"] = seeker_pseudonym(data["object_id"])
        for side in ("before", "after"):
            if data.get(side) and data[side].get("seeker_id"):
                data[side] = {**data[side], "seeker_id": seeker_pseudonym(data[side]["seeker_id"])}
        return data
