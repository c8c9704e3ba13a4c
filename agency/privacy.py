"""What this service keeps of a person, and what others see of them.

- :func:`pseudonym`: the one stable name auditors see for a care seeker, everywhere (the ISF
  register, requests, invoices, arrangements, the audit log), meaningless outside this service.
- :func:`hash_free_text`: the audit trail records that a free-text field changed, as a
  hash, never the text: the trail is append-only, so text in it could never be erased.
- :data:`TEXT_COLUMNS`: every column that can hold text, classified. Erasure scrubs the
  ``SEEKER_TEXT`` ones; ``tests/seekers/test_erasure_columns.py`` fails when a column that
  can hold text is added without being classified here.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

SEEKER_PREFIX = "S"


def pseudonym(secret_key: str, seeker_id: str) -> str:
    """The seeker's pseudonym (``S-`` and ten hex digits of an HMAC of their id)."""
    digest = hmac.new(secret_key.encode(), seeker_id.encode(), hashlib.sha256).hexdigest()
    return f"{SEEKER_PREFIX}-{digest[:10].upper()}"


# Keys of audit ``before``/``after`` whose values are free text someone typed.
FREE_TEXT_KEYS = frozenset(
    {
        "reason",
        "change_reason",
        "end_reason",
        "status_reason",
        "decline_reason",
        "off_list_reason",
        "dispute_reason",
        "query_reason",
        "note",
        "notes",
        "memo",
        "display_name",
        "reference",
        "bio",
    }
)


def hash_free_text(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``values`` with each free-text value replaced by ``sha256:<hex>`` (None stays None)."""
    if values is None:
        return None
    return {
        key: (
            "sha256:" + hashlib.sha256(value.encode()).hexdigest()
            if key in FREE_TEXT_KEYS and isinstance(value, str)
            else value
        )
        for key, value in values.items()
    }


class Text(enum.StrEnum):
    """What a text column may hold, as far as a care seeker's erasure is concerned."""

    SEEKER_TEXT = "seeker_text"  # may hold what someone wrote about a seeker: erasure scrubs it
    HASHED = "hashed"  # free text is stored only as a hash (the audit trail)
    NOT_PERSONAL = "not_personal"  # codes, keys, machine values, structured data, ids
    OTHER_PARTY = "other_party"  # a provider's, a user's, a partner's or an agency's own data
    MONEY_RECORD = "money_record"  # append-only money records: kept, ids and pence only


S, H, N = Text.SEEKER_TEXT, Text.HASHED, Text.NOT_PERSONAL
P, M = Text.OTHER_PARTY, Text.MONEY_RECORD  # P: another party's own data

# table -> column -> class, for every String, Text and JSON column that is not a key.
TEXT_COLUMNS: dict[str, dict[str, Text]] = {
    "care_seekers": {"reference": S, "display_name": S, "outcode": N, "sector": S},
    "activities": {  # an agency's published activity: no seeker in it
        "name": P,
        "organiser": P,
        "outcode": N,
        "venue": P,
        "schedule": N,
        "accessibility_notes": P,
        "interests": N,
    },
    "care_requests": {
        "outcode": N,  # kept: coarse (about 8,000 households), for unmet-need reports
        "sector": S,
        "services": N,
        "windows": N,
        "windows_mask": N,
        "preferences": S,
        "notes": S,
        "status_reason": S,
        "last_match_job_id": N,
    },
    "consents": {"terms_version": N, "purposes": N},
    "suggestions": {"explanation": N, "status_reason": S, "job_id": N},
    "introductions": {"note": S, "off_list_reason": S, "decline_reason": S},
    "arrangements": {"funding": N, "isf_account_id": N, "end_reason": S},
    "arrangement_versions": {
        "services": N,
        "rates_pence": N,
        "schedule": N,
        "schedule_mask": N,
        "created_by": N,
        "change_reason": S,
    },
    "visits": {
        "start_time": N,
        "end_time": N,
        "services": N,
        "notes": S,
        "flags": N,
        "dispute_reason": S,
        "created_by": N,
        "cover_rates_pence": N,
    },
    "timesheets": {"query_reason": S, "approved_by": N, "invoice_id": N},
    "planned_visits": {
        "start_time": N,
        "end_time": N,
        "acknowledged_by": N,
        "cancelled_by": N,
        "cancel_reason": S,
        "cover_offered_by": N,
        "cover_rates_pence": N,
    },
    "rota_feeds": {"token_digest": N},
    "backup_providers": {"set_by": N},
    "arrangement_team_members": {"added_by": N},
    "visit_feedback": {"comment": S, "created_by": N},
    "isf_accounts": {
        "council_reference": M,  # the council's own register key for the ISF: kept with money
        "created_by": N,
        "overdraft_reason": S,
        "overdraft_approved_by": N,
    },
    "invoices": {"number": M, "funding": M, "lines": M},  # lines: dates, minutes, pence
    "journal_entries": {"memo": M, "idempotency_key": N, "created_by": N},
    "ledger_accounts": {"key": N},
    "payment_runs": {"gateway": N, "job_id": N, "created_by": N, "figures": N},
    "payouts": {"gateway": N, "idempotency_key": N, "external_id": N, "error_code": N},
    "payout_accounts": {"gateway": N, "external_id": N},
    "stripe_events": {"type": N},
    "audit_entries": {
        "principal_kind": N,
        "principal_id": N,
        "action": N,
        "object_type": N,
        "object_id": N,
        "agency_id": N,
        "council_id": N,
        "before": H,
        "after": H,
        "prev_hash": N,
        "hash": N,
    },
    "jobs": {
        "name": N,
        "arguments": N,  # ids only
        "result": N,
        "result_path": N,
        "error": N,  # a stable code and message, never input text
        "agency_id": N,
        "council_id": N,
        "partner_client_id": N,
        "provider_id": N,
    },
    "match_plans": {"figures": N, "placements": N, "job_id": N},
    "match_pool_changes": {"provider_id": N},  # an id, no foreign key (a change log)
    "webhook_events": {"type": N, "payload": N},  # ids and statuses (introductions/events.py)
    "webhook_endpoints": {
        "url": P,
        "events": N,
        "description": P,
        "secret": N,
        "previous_secret": N,
    },
    "webhook_attempts": {"error": N},
    "webhook_deliveries": {"last_error": N},
    "agencies": {"name": P, "slug": P, "base_outcode": P, "matching_weights": N},
    "councils": {"name": P, "slug": P, "area_key": P},
    "neighbourhoods": {"slug": N, "name": N},
    "neighbourhood_outcodes": {"outcode": N},
    "service_types": {"name": N, "description": N},
    "users": {"email": P, "password_hash": N},
    "pending_registrations": {  # a provider signing up, before its user exists
        "email": P,
        "password_hash": N,
        "payload": P,
        "token_digest": N,
    },
    "api_keys": {"name": P, "prefix": N, "key_digest": N},
    "auth_tokens": {"family_id": N, "access_digest": N, "refresh_digest": N},
    "partner_clients": {"name": P, "contact_email": P},
    "providers": {
        "trading_name": P,
        "base_outcode": P,
        "locality_basis": P,
        "languages": P,
        "skills": P,
        "gender": P,
        "bio": P,
        "weekly_availability": P,
        "availability_mask": P,
        "cqc_registration_number": P,
        "oruk_id": N,
        "oruk_organization_id": N,
    },
    "provider_listings": {"reason": P},
    "vetting_decisions": {"from_status": N, "to_status": N, "reason": P},
    "compliance_items": {"title": P, "level": P, "evidence_reference": P, "status_reason": P},
    "availability_exceptions": {"reason": P},
    "isf_approvals": {"reason": P},
}


def seeker_text_columns() -> dict[str, tuple[str, ...]]:
    """table -> the columns erasure scrubs."""
    return {
        table: tuple(name for name, kind in columns.items() if kind is Text.SEEKER_TEXT)
        for table, columns in TEXT_COLUMNS.items()
        if any(kind is Text.SEEKER_TEXT for kind in columns.values())
    }
