"""gunicorn's own refusals in the API's JSON error format, logged without personal data.

gunicorn answers a few requests before the app sees them: a request line (method, path and
query) longer than ``limit_request_line`` (414), headers over its limits (431), a line
that is not HTTP (400). Its stock answer is an HTML page, and its log line quotes the
client's address and the offending line, which can hold a postcode or a person's id
(``GET /postcodes/BS3 4AA`` is refused for the space). :class:`Worker`, gunicorn's sync
worker set as ``worker_class`` in ``gunicorn.conf.py``, answers those in the API's error
format (``code``, ``message``, ``status``) and logs only the kind of refusal.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.sync import SyncWorker

# (status, reason phrase, code, message) for each refusal gunicorn makes; any other
# ParseException (an unreadable request line, header, chunk or proxy line) is a plain 400.
_REFUSALS: tuple[tuple[type[BaseException], int, str, str, str], ...] = (
    (
        errors.LimitRequestLine,
        414,
        "URI Too Long",
        "uri_too_long",
        "The request line (method, path and query string) is too long.",
    ),
    (
        errors.LimitRequestHeaders,
        431,
        "Request Header Fields Too Large",
        "headers_too_large",
        "The request's headers are too many or too long.",
    ),
    (
        errors.UnsupportedTransferCoding,
        501,
        "Not Implemented",
        "unsupported_transfer_coding",
        "The request's Transfer-Encoding is not supported.",
    ),
    (
        errors.ExpectationFailed,
        417,
        "Expectation Failed",
        "expectation_failed",
        "The request's Expect header cannot be met.",
    ),
    (errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden", "Request forbidden."),
    (ssl.SSLError, 403, "Forbidden", "forbidden", "The TLS handshake failed."),
)
_BAD_REQUEST = (400, "Bad Request", "bad_request", "The request is not valid HTTP.")
_SERVER_ERROR = (
    500,
    "Internal Server Error",
    "internal_error",
    "An unexpected error occurred.",
)


def refusal(exc: BaseException) -> tuple[int, str, str, str] | None:
    """(status, reason, code, message) for an exception gunicorn raised reading a request;
    None when it is not the client's doing (a response header the app got wrong, a bug)."""
    if isinstance(exc, (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)):
        return None
    for kind, status, reason, code, message in _REFUSALS:
        if isinstance(exc, kind):
            return status, reason, code, message
    if isinstance(exc, errors.ParseException):
        return _BAD_REQUEST
    return None


def error_response(status: int, reason: str, code: str, message: str) -> bytes:
    """The whole HTTP response, connection closed (gunicorn closes it after an error)."""
    body = json.dumps({"code": code, "message": message, "status": status}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class Worker(SyncWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's sync worker; only its answer to a request it could not serve differs."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        answer = refusal(exc)
        if answer is None:
            # gunicorn would name the request's path here: the exception's type and trace only.
            self.log.exception("Error handling a request (%s)", type(exc).__name__)
            answer = _SERVER_ERROR
        else:
            # gunicorn would quote the client's address and the offending line.
            self.log.warning("Refused a request gunicorn could not read (%s)", type(exc).__name__)
        try:
            util.write_nonblock(client, error_response(*answer))
        except Exception:
            self.log.debug("Failed to send error message.")
