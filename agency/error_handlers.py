"""The web side of the one JSON error format: Flask handlers for every failure.

The error classes and the body's shape are in :mod:`agency.errors`; this module
turns them (and werkzeug's HTTP errors, database timeouts and anything
unexpected) into responses carrying the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from agency.db import is_statement_timeout
from agency.errors import HTTP_CODES, DomainError, string_keys

log = logging.getLogger("agency.errors")


def error_body(
    status: int, code: str, message: str, errors: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = string_keys(errors)
    body.update(extra)
    body["request_id"] = g.get("request_id")
    return body


def _flatten_webargs(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {"field": [...]}}); clients want fields."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, value in fields.items():
                flat[name] = value
        else:
            flat[location] = fields
    return flat


def http_error_response(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _flatten_webargs(data["messages"])
    message = data.get("message")
    if message is None:
        message = "The request body is not valid." if status == 422 else error.description
    if status >= 500:
        message = "An unexpected error occurred. Quote the request id when reporting it."
    code = data.get("code") or HTTP_CODES.get(status, "error")
    response = jsonify(error_body(status, code, message, errors))
    response.status_code = status
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def domain_error_response(error: DomainError):  # type: ignore[no-untyped-def]
    response = jsonify(
        error_body(error.status, error.code, error.message, error.errors, **error.extra)
    )
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="agency"'
    return response


def unexpected_error_response(error: Exception):  # type: ignore[no-untyped-def]
    # Log the exception type and trace, never the request body (it may hold personal data).
    log.exception("unhandled error", extra={"error_type": type(error).__name__})
    return http_error_response(InternalServerError())


def database_error_response(error: DBAPIError):  # type: ignore[no-untyped-def]
    """A statement past the web's statement timeout is a clear 503, never a 500."""
    if not is_statement_timeout(error):
        return unexpected_error_response(error)
    log.warning("statement timeout", extra={"error_type": "QueryCanceled"})
    response = jsonify(
        error_body(
            503,
            "query_timeout",
            "The database took longer than this service allows a request "
            "(narrow the period or the filters, or try again later).",
        )
    )
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(DBAPIError, database_error_response)
    app.register_error_handler(Exception, unexpected_error_response)
