"""The flask-smorest Api: blueprints, the OpenAPI document, and offline interactive docs."""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from agency.errors import ErrorSchema, http_error_response
from agency.pagination import MAX_PAGE, pagination_metadata

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


class AgencyApi(Api):
    """Api whose HTTP errors use the project's one JSON error format."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its real codes (document_operations)

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
    from agency.activities.routes import blp as activities_blp
    from agency.audit.routes import blp as audit_blp
    from agency.directory.routes import blp as directory_blp
    from agency.equality.routes import blp as equality_blp
    from agency.health import blp as health_blp
    from agency.introductions.arrangement_routes import blp as arrangements_blp
    from agency.introductions.match_routes import blp as matching_blp
    from agency.introductions.routes import blp as introductions_blp
    from agency.isf.routes import blp as isf_blp
    from agency.jobs.routes import blp as jobs_blp
    from agency.oruk.routes import blp as oruk_blp
    from agency.outcomes.routes import blp as outcomes_blp
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
        equality_blp,
        activities_blp,
        oruk_blp,
        matching_blp,
        introductions_blp,
        arrangements_blp,
        outcomes_blp,
        webhooks_blp,
        audit_blp,
        isf_blp,
        reports_blp,
        visits_blp,
    )
    for blueprint in blueprints:
        # X-Pagination keeps the page asked for, even past the last one (agency.pagination).
        for part in with_nested(blueprint):
            part._make_pagination_metadata = pagination_metadata
        api.register_blueprint(blueprint)
    api_names = {blueprint.name for blueprint in blueprints}
    app.extensions["agency.operations"] = record_operation_access(app, api_names)
    document_operations(api, app.extensions["agency.operations"], app)
    return api


def with_nested(blueprint: Blueprint) -> list[Blueprint]:
    """A domain's blueprint and those nested under it (``blp.register_blueprint(child)``)."""
    found = [blueprint]
    for child, _options in blueprint._blueprints:  # noqa: SLF001 - Flask keeps nesting here
        found += with_nested(child)
    return found


# Operations open to anyone besides those marked ``@blp.doc(security=[])`` in their routes.
ANONYMOUS_OPERATIONS = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/auth/token"),
    ("POST", "/auth/refresh"),
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def spec_path(rule: str) -> str:
    """``/care-seekers/<seeker_id>`` (a Flask rule) as ``/care-seekers/{seeker_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _method_function(app: Flask, endpoint: str, method: str) -> Any:
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method.lower(), None) if view_class else view


def record_operation_access(app: Flask, api_names: set[str]) -> dict[tuple[str, str], Any]:
    """Who may call each API operation, read from its routes: agency.web enforces it
    before any input is read (401 before 422), and the document states it."""
    from agency.web import OperationAccess

    operations = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] not in api_names:
            continue
        for method in _METHODS:
            if method not in (rule.methods or ()):
                continue
            function = _method_function(app, rule.endpoint, method)
            doc = getattr(function, "_apidoc", {}).get("manual_doc", {})
            public = doc.get("security") == [] or (method, spec_path(rule.rule)) in (
                ANONYMOUS_OPERATIONS
            )
            kinds = tuple(getattr(function, "_agency_kinds", ()))
            operations[(rule.endpoint, method)] = OperationAccess(public=public, kinds=kinds)
    return operations


# Codes a view raises beyond what document_responses derives (409s, 403s from services...):
# keyed by (method, path), kept here so the document says every code a client may meet.
EXTRA_RESPONSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/auth/token"): (429,),
    ("POST", "/auth/refresh"): (429,),
    ("POST", "/providers/register"): (429,),
}

# OpenAPI links: how one response leads to the next call, so a client (and schemathesis'
# stateful phase) can follow the main flows: seeker -> care request -> suggestions ->
# introduction -> arrangement, and a queued job to its status.
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("POST", "/care-seekers", "201"): {
        "GetCareSeeker": ("GET", "/care-seekers/{seeker_id}", {"seeker_id": "$response.body#/id"}),
        "CreateCareRequest": (
            "POST",
            "/care-seekers/{seeker_id}/care-requests",
            {"seeker_id": "$response.body#/id"},
        ),
    },
    ("POST", "/care-seekers/{seeker_id}/care-requests", "201"): {
        "GetCareRequest": (
            "GET",
            "/care-requests/{request_id}",
            {"request_id": "$response.body#/id"},
        ),
        "GetSuggestions": (
            "GET",
            "/care-requests/{request_id}/suggestions",
            {"request_id": "$response.body#/id"},
        ),
        "IntroduceProvider": (
            "POST",
            "/care-requests/{care_request_id}/introductions",
            {"care_request_id": "$response.body#/id"},
        ),
        "PollMatchJob": ("GET", "/jobs/{job_id}", {"job_id": "$response.body#/job/id"}),
    },
    ("POST", "/care-requests/{request_id}/rematch", "202"): {
        "PollMatchJob": ("GET", "/jobs/{job_id}", {"job_id": "$response.body#/id"}),
    },
    ("POST", "/agencies/{agency_id}/match-plans", "202"): {
        "PollPlanJob": ("GET", "/jobs/{job_id}", {"job_id": "$response.body#/id"}),
    },
    ("POST", "/care-requests/{care_request_id}/introductions", "201"): {
        "GetIntroduction": (
            "GET",
            "/introductions/{introduction_id}",
            {"introduction_id": "$response.body#/id"},
        ),
        "AcceptIntroduction": (
            "POST",
            "/introductions/{introduction_id}/accept",
            {"introduction_id": "$response.body#/id"},
        ),
        "ConfirmIntroduction": (
            "POST",
            "/introductions/{introduction_id}/confirm",
            {"introduction_id": "$response.body#/id"},
        ),
    },
    ("POST", "/introductions/{introduction_id}/confirm", "200"): {
        "GetArrangement": (
            "GET",
            "/arrangements/{arrangement_id}",
            {"arrangement_id": "$response.body#/arrangement_id"},
        ),
    },
}


def _drop_null_keywords(document: Any) -> None:
    """Remove ``"format": null`` and ``"pattern": null`` (apispec writes them for a Time
    field with its own format): OpenAPI wants strings there, and validators refuse null."""
    if isinstance(document, dict):
        for keyword in ("format", "pattern"):
            if keyword in document and document[keyword] is None:
                del document[keyword]
        for value in document.values():
            _drop_null_keywords(value)
    elif isinstance(document, list):
        for value in document:
            _drop_null_keywords(value)


_MEDIA_BY_SUFFIX = {".csv": "text/csv", ".png": "image/png", ".svg": "image/svg+xml"}


def document_operations(api: Api, operations: dict[tuple[str, str], Any], app: Flask) -> None:
    """State each operation's real status codes instead of one ``default`` response.

    Derived from what the code already says: 401 (and 403 when only some kinds of
    principal may call) from the access rule, 404 from path parameters and bodies that
    name other objects, 422 from any parameter or body (the edge refuses unsafe strings
    in all of them), 400 from a JSON body, 403 for writes (auditors read only), 409 for
    writes to an existing object (state machines, versions); plus the
    codes views declare with ``@blp.alt_response`` and :data:`EXTRA_RESPONSES`. Error
    responses carry the one error body; reports document the media types they return.
    """
    components = api.spec.components
    error_content = {"application/json": {"schema": components.get_ref("schema", "Error")}}
    access_by_path = {
        (method, spec_path(rule.rule)): operations[(rule.endpoint, method)]
        for rule in app.url_map.iter_rules()
        for method in _METHODS
        if (rule.endpoint, method) in operations
    }
    _drop_null_keywords(api.spec._paths)  # noqa: SLF001 - apispec keeps paths here
    _drop_null_keywords(components.schemas)
    for path, item in api.spec._paths.items():  # noqa: SLF001
        path_parameters = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        for method, operation in item.items():
            if method.upper() not in _METHODS:
                continue
            key = (method.upper(), path)
            access = access_by_path.get(key)
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            codes: set[int] = set(EXTRA_RESPONSES.get(key, ()))
            has_body = "requestBody" in operation
            parameters = path_parameters + operation.get("parameters", [])
            for parameter in parameters:
                if parameter.get("in") == "query" and parameter.get("name") == "page":
                    parameter.setdefault("schema", {})["maximum"] = MAX_PAGE
            if has_body:
                codes |= {400, 422}
            if parameters:
                codes.add(422)
            if path_parameters:
                codes.add(404)
                if method != "get":  # a write to an object its state or version may refuse
                    codes.add(409)
            if access is not None and access.public:
                operation["security"] = []
            elif access is not None:
                codes.add(401)
                if has_body:  # a body may name objects the caller cannot see
                    codes.add(404)
                if access.kinds or method != "get":
                    codes.add(403)
            for code in codes:
                if str(code) not in responses:
                    name = HTTPStatus(code).name
                    responses[str(code)] = components.get_ref("response", name)
            for code, response in responses.items():
                if int(code) >= 400 and "$ref" not in response and "content" not in response:
                    response["content"] = error_content
            if any(
                parameter.get("name") == "format"
                and "csv" in parameter.get("schema", {}).get("enum", ())
                for parameter in parameters
            ):  # ?format=csv: the same report as text/csv
                for code, response in responses.items():
                    if code.startswith("2") and "content" in response:
                        response["content"]["text/csv"] = {"schema": {"type": "string"}}
            media = _MEDIA_BY_SUFFIX.get(Path(path).suffix)
            if media:
                for code, response in responses.items():
                    if code.startswith("2"):
                        response["content"] = {media: {"schema": {"type": "string"}}}
            for (link_method, link_path, status), links in LINKS.items():
                if (link_method, link_path) == key and status in responses:
                    responses[status]["links"] = {
                        name: {
                            "operationRef": "#/paths/"
                            + target.replace("~", "~0").replace("/", "~1")
                            + "/"
                            + target_method.lower(),
                            "parameters": parameters_map,
                        }
                        for name, (target_method, target, parameters_map) in links.items()
                    }
            operation["responses"] = dict(sorted(responses.items()))
