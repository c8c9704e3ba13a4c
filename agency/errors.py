"""One JSON error format for every failure.

Every error body is ``{"code", "status", "message", "errors"?, "request_id"}``:
``code`` is a stable machine-readable string (``validation_error``,
``not_found``, ``insufficient_funds``...), ``status`` the HTTP status,
``errors`` maps each offending field to its messages. No HTML page and no stack
trace ever reaches a client: unexpected failures are logged (without request
bodies) and answered with a generic 500 carrying the request id.

This module is the domain's half and knows nothing of Flask; the handlers that
turn these errors into responses are in :mod:`agency.error_handlers` (web side).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

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
