"""Examples in the OpenAPI document for fields whose schema gives none: by field name, then
by type (an apispec attribute function, registered by ``agency.api``)."""

from __future__ import annotations

# Examples for fields whose schema gives none: by field name, then by type. Our ids are
# opaque prefixed strings (agency.ids), so an id field's example shows its prefix.
ID_PREFIXES = {
    "agency_id": "agy",
    "council_id": "cnc",
    "provider_id": "prv",
    "care_request_id": "req",
    "seeker_id": "skr",
    "arrangement_id": "arr",
    "introduction_id": "itr",
    "job_id": "job",
    "isf_account_id": "isf",
    "invoice_id": "inv",
    "neighbourhood_id": "nbh",
    "user_id": "usr",
    "partner_client_id": "ptn",
    "timesheet_id": "tms",
    "visit_id": "vis",
    "suggestion_id": "sug",
    "listing_id": "lst",
    "payment_run_id": "prn",
    "endpoint_id": "whe",
}


NAME_EXAMPLES = {
    "name": "Southmead Development Trust",
    "trading_name": "Amina's Companions",
    "slug": "southmead-development-trust",
    "base_outcode": "BS3",
    "outcode": "BS3",
    "reason": "References checked",
    "status_reason": "Met before, not a good fit",
    "description": "Company, conversation and social contact at home.",
    "memo": "Four-weekly budget",
    "note": "Lives near the provider; both prefer mornings",
    "off_list_reason": "Known to the family already",
    "decline_reason": "No capacity this month",
    "end_reason": "Moved into residential care",
    "dispute_reason": "The visit was cut short",
    "query_reason": "Tuesday's visit is missing",
    "notes": "Shopping and a walk to the park",
    "bio": "Local, friendly support from someone in your neighbourhood.",
    "gender": "female",
    "error": "ConnectionError: webhook receiver unreachable",
    "error_code": "balance_insufficient",
    "gateway": "manual_bank_transfer",
    "created_by": "usr_5d1c2e0f9a8b7c6d5e4f3a2b",
    "url": "https://directory.example/services/prv_5d1c2e0f",
    "uri": "https://directory.example",
    "extent": "BS3 within 5 km",
    "extent_type": "postcode_radius",
    "value": "true",
    "reverses_entry_id": "jen_5d1c2e0f9a8b7c6d5e4f3a2b",
    "entry_id": "jen_5d1c2e0f9a8b7c6d5e4f3a2b",
    "service_id": "prv_5d1c2e0f9a8b7c6d5e4f3a2b",
    "link_id": "prv_5d1c2e0f9a8b7c6d5e4f3a2b",
    "organization_id": "3f1c2b9e-8d4a-5c6f-9b1e-2a7d4c8e6f10",
    "parent_id": "companionship",
    "payload": {"type": "introduction.accepted", "data": {"id": "itr_5d1c2e0f"}},
    "result": {"suggestions": 12},
}


NUMBER_EXAMPLES = {
    "attempts": 1,
    "travel_radius_km": 5.0,
    "capacity_hours_per_week": 20.0,
    "days_to_paid": 6,
    "last_status_code": 200,
    "total_minutes": 185,
}


TYPE_EXAMPLES = {
    ("string", "date-time"): "2026-11-26T10:30:00+00:00",
    ("string", "date"): "2026-12-07",
    ("string", "uuid"): "3f1c2b9e-8d4a-5c6f-9b1e-2a7d4c8e6f10",
    ("boolean", None): True,
}


def field_example(converter: object, field: object, ret: dict[str, object]) -> dict[str, object]:
    """apispec attribute function: give an example to a field whose schema has none."""
    if "example" in ret or "$ref" in ret or ret.get("type") == "array":
        return {}
    name = getattr(field, "data_key", None) or getattr(field, "name", None) or ""
    if name in ID_PREFIXES:
        return {"example": f"{ID_PREFIXES[name]}_5d1c2e0f9a8b7c6d5e4f3a2b"}
    if name in NAME_EXAMPLES:
        return {"example": NAME_EXAMPLES[name]}
    if name in NUMBER_EXAMPLES:
        return {"example": NUMBER_EXAMPLES[name]}
    example = TYPE_EXAMPLES.get((str(ret.get("type")), ret.get("format")))  # type: ignore[arg-type]
    return {"example": example} if example is not None else {}
