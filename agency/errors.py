"""One JSON error format for every failure.

Every error body is ``{"code", "status", "message", "errors"?, "request_id"}``:
``code`` is a stable machine-readable string (``validation_error``,
``not_found``, ``insufficient_funds``...), ``status`` the HTTP status,
``errors`` maps each offending field to its messages. No HTML page and no stack
trace ever reaches a client: unexpected failures are logged (without request
bodies) and answered with a generic 500 carrying the request id.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, g, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("agency.errors")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class DomainError(Exception):
    """Base of every rule the domain refuses; the handler turns it into JSON."""

    status = 400
    code = "bad_request"
    message = "The request cannot be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors
        if code is not None:
            self.code = code  # a finer code for one raise site, e.g. Conflict(code="slug_taken")
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "No such object."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You may not do this."


class ReadOnly(Forbidden):
    code = "read_only"
    message = "Auditors have read-only access."


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    message = "Missing or invalid credentials."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "The object is not in a state that allows this."


class InvalidInput(DomainError):
    """A rule about the input that a schema cannot see (an unknown postcode...)."""

    status = 422
    code = "validation_error"
    message = "The request body is not valid."


class ErrorSchema(ma.Schema):
    """The error body, for the OpenAPI document."""

    class Meta:
        # Some errors add fields beside the usual five (a conflict's ``current_status``,
        # the readiness probe's ``checks``): the document must allow them.
        unknown = ma.INCLUDE

    code = ma.fields.String(
        required=True, metadata={"description": "Stable error code", "example": "validation_error"}
    )
    status = ma.fields.Integer(required=True, metadata={"example": 422})
    message = ma.fields.String(
        required=True, metadata={"example": "The request body is not valid."}
    )
    errors = ma.fields.Dict(
        metadata={
            "description": "Messages per offending field",
            "example": {"postcode": ["Not a valid UK postcode."]},
        }
    )
    request_id = ma.fields.String(metadata={"example": "req_0f3c2a9b1d8e4c7a"})


def string_keys(messages: Any) -> Any:
    """``messages`` with every mapping key a string, at any depth.

    marshmallow keys a list item's errors by its index (an int) beside field names and
    ``_schema``; JSON allows only string keys, and sorting mixed keys raises TypeError.
    """
    if isinstance(messages, dict):
        return {str(key): string_keys(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [string_keys(value) for value in messages]
    return messages


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
    from agency.db import is_statement_timeout

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
