"""The flask-smorest Api: blueprints, the OpenAPI document, and offline interactive docs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api, Blueprint
from flask_smorest.pagination import PaginationMetadataSchema
from werkzeug.exceptions import HTTPException

from agency import API_VERSION
from agency.accounts.routes import blp as accounts_blp
from agency.activities.routes import blp as activities_blp
from agency.audit.routes import blp as audit_blp
from agency.directory.routes import blp as directory_blp
from agency.equality.routes import blp as equality_blp
from agency.error_handlers import http_error_response
from agency.errors import ErrorSchema
from agency.health_routes import blp as health_blp
from agency.introductions.arrangement_routes import blp as arrangements_blp
from agency.introductions.match_routes import blp as matching_blp
from agency.introductions.routes import blp as introductions_blp
from agency.isf.routes import blp as isf_blp
from agency.jobs.routes import blp as jobs_blp
from agency.openapi_examples import field_example
from agency.openapi_responses import METHODS, complete_responses
from agency.oruk.routes import blp as oruk_blp
from agency.outcomes.routes import blp as outcomes_blp
from agency.providers.routes import blp as providers_blp
from agency.reports.routes import blp as reports_blp
from agency.seekers.routes import blp as seekers_blp
from agency.visits.routes import blp as visits_blp
from agency.web import OperationAccess
from agency.webhooks.routes import blp as webhooks_blp

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_ASSETS_URL = "/docs/assets/"


def pagination_metadata(page: int, page_size: int, item_count: int) -> dict[str, Any]:
    """The X-Pagination header; unlike smorest's, it keeps ``page`` past the last page."""
    metadata: dict[str, Any] = {"total": item_count, "page": page}
    page_count = (item_count - 1) // page_size + 1 if item_count else 0
    metadata["total_pages"] = page_count
    if page_count:
        metadata.update(first_page=1, last_page=page_count)
        if page > 1:
            metadata["previous_page"] = min(page - 1, page_count)
        if page < page_count:
            metadata["next_page"] = page + 1
    return PaginationMetadataSchema().dump(metadata)  # type: ignore[no-any-return]


class AgencyApi(Api):
    """Api whose HTTP errors use the project's one JSON error format."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its real codes (document_operations)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        return http_error_response(error)


def create_api(app: Flask) -> AgencyApi:

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


def document_operations(api: Api, operations: dict[tuple[str, str], Any], app: Flask) -> None:
    """State each operation's real responses (``agency.openapi_responses``), given the
    access rule recorded for each route."""
    access_by_path = {
        (method, spec_path(rule.rule)): operations[(rule.endpoint, method)]
        for rule in app.url_map.iter_rules()
        for method in METHODS
        if (rule.endpoint, method) in operations
    }
    complete_responses(api.spec, access_by_path)


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

    operations = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] not in api_names:
            continue
        for method in METHODS:
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
