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
