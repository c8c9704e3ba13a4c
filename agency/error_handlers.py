"""The web side of the one JSON error format: Flask handlers for every failure.

The error classes and the body's shape are in :mod:`agency.errors`; this module
turns them (and werkzeug's HTTP errors, database timeouts and anything
unexpected) into responses carrying the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from agency.db import is_statement_timeout
from agency.errors import HTTP_CODES, DomainError, InvalidInput, string_keys

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


BODY_NOT_VALID = InvalidInput.message
PARAMETERS_NOT_VALID = "The request's parameters are not valid."


def _invalid_input_message(locations: set[str] | None = None) -> str:
    """What a 422 says was wrong: the body, or the path and query of a request that has
    none (a GET, a HEAD, a DELETE; or webargs' query and path locations)."""
    if locations is not None:
        return BODY_NOT_VALID if locations & {"json", "form", "files"} else PARAMETERS_NOT_VALID
    return PARAMETERS_NOT_VALID if request.method in ("GET", "HEAD", "DELETE") else BODY_NOT_VALID


def http_error_response(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _flatten_webargs(data["messages"])
    message = data.get("message")
    if message is None and status == 422:
        messages = data.get("messages")
        message = _invalid_input_message(set(messages) if isinstance(messages, dict) else None)
    if message is None:
        message = error.description
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
    message = error.message
    if isinstance(error, InvalidInput) and message == BODY_NOT_VALID:  # the default wording
        message = _invalid_input_message()
    response = jsonify(error_body(error.status, error.code, message, error.errors, **error.extra))
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
