"""The flask-smorest Api: blueprints, the OpenAPI document, and offline interactive docs."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from agency.errors import ErrorSchema, http_error_response

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_ASSETS_URL = "/docs/assets/"


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
    "reverses_entry_id": "jnl_5d1c2e0f9a8b7c6d5e4f3a2b",
    "entry_id": "jnl_5d1c2e0f9a8b7c6d5e4f3a2b",
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


class AgencyApi(Api):
    """Api whose HTTP errors use the project's one JSON error format."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        return http_error_response(error)


def create_api(app: Flask) -> AgencyApi:
    from agency import API_VERSION

    app.config.update(
        API_TITLE="Introductory Agency API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the swagger-ui-bundle package, so /docs works with no network.
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS_URL,
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Matches people who need care and support at home with local "
                    "micro-providers through community introductory agencies, and pays "
                    "providers from Individual Service Funds. Partner clients send "
                    "`X-API-Key`; users send `Authorization: Bearer <token>` from "
                    "`POST /auth/token`. Every error has the same JSON body: `code`, "
                    "`status`, `message`, `errors` per field, `request_id`."
                ),
                "license": {"name": "AGPL-3.0-or-later"},
            },
            "components": {
                "securitySchemes": {
                    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                    "Bearer": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"ApiKey": []}, {"Bearer": []}],
        },
    )
    api = AgencyApi(app)
    api.ma_plugin.converter.add_attribute_function(field_example)

    @app.get(f"{DOCS_ASSETS_URL}<path:filename>")
    def swagger_assets(filename: str):  # type: ignore[no-untyped-def]
        return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)

    from agency.accounts.routes import blp as accounts_blp
    from agency.audit.routes import blp as audit_blp
    from agency.directory.routes import blp as directory_blp
    from agency.health import blp as health_blp
    from agency.introductions.arrangement_routes import blp as arrangements_blp
    from agency.introductions.match_routes import blp as matching_blp
    from agency.introductions.routes import blp as introductions_blp
    from agency.isf.routes import blp as isf_blp
    from agency.jobs.routes import blp as jobs_blp
    from agency.oruk.routes import blp as oruk_blp
    from agency.providers.routes import blp as providers_blp
    from agency.reports.routes import blp as reports_blp
    from agency.seekers.routes import blp as seekers_blp
    from agency.visits.routes import blp as visits_blp
    from agency.webhooks.routes import blp as webhooks_blp

    blueprints = (
        health_blp,
        accounts_blp,
        jobs_blp,
        directory_blp,
        providers_blp,
        seekers_blp,
        oruk_blp,
        matching_blp,
        introductions_blp,
        arrangements_blp,
        webhooks_blp,
        audit_blp,
        isf_blp,
        reports_blp,
        visits_blp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
