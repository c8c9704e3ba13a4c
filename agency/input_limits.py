"""Input refused at the edge, before any schema or query sees it.

One check for every request, rather than a rule on each of hundreds of schema fields:
it covers the path, the query string, headers, form fields and the JSON body alike,
including views that read input without a schema (the Stripe webhook, the console).

- A NUL character or a lone UTF-16 surrogate (``"\\ud800"`` in JSON) in any string:
  PostgreSQL's text types cannot store NUL, and a lone surrogate cannot be encoded as
  UTF-8, so either would fail deep in psycopg as a 500. Answer 422 naming the field.
- JSON nested deeper than :data:`MAX_JSON_DEPTH`: Python's parser recurses once per
  level (a thousand levels raise RecursionError) and nothing we accept nests past a few.
  Answer 400, like any body that cannot be read.
- A JSON number longer than :data:`MAX_NUMBER_CHARS` characters, or one that is not
  finite: Python refuses to read integers of more than 4,300 digits, and ``1e999`` reads
  as infinity, which ``int()`` cannot take. Answer 422.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from agency.errors import DomainError, InvalidInput

MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 40

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
# In UTF-8 JSON text a NUL or a surrogate can only come from a \u escape (a raw control
# character is refused by the parser, and UTF-8 cannot encode a surrogate): a body without
# such an escape holds neither, and its strings need no walk. A body in UTF-16 or UTF-32
# (which the parser also reads) has NUL bytes, and is always walked; so is one with more
# brackets than the depth allowed (the walk measures the depth).
_UNSAFE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class UnreadableBody(DomainError):
    status = 400
    code = "bad_request"
    message = "The request body is not valid JSON."


class _NumberTooLarge(ValueError):
    pass


def check_request(request: Any) -> None:
    """Raise :class:`InvalidInput` (422) or :class:`UnreadableBody` (400) for unsafe input.

    ``request`` is the web layer's werkzeug request (agency.web passes it in).
    """
    errors: dict[str, list[str]] = {}
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and _UNSAFE.search(value):
            errors[name] = [_MESSAGE]
    for name, value in request.args.items(multi=True):
        if _UNSAFE.search(name) or _UNSAFE.search(value):
            errors[_printable(name)] = [_MESSAGE]
    # Header values arrive as latin-1 text (no surrogates), so only NUL can be in them;
    # read straight from the WSGI environ, which is far cheaper than werkzeug's Headers view.
    for key, value in request.environ.items():
        if isinstance(value, str) and "\x00" in value and _is_header(key):
            errors[_header_name(key)] = [_MESSAGE]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if _UNSAFE.search(name) or _UNSAFE.search(value):
                errors[_printable(name)] = [_MESSAGE]
    if errors:
        raise InvalidInput("The request holds characters that cannot be stored.", errors=errors)
    if request.is_json:
        check_json(request.get_data(cache=True))


def check_json(raw: bytes) -> None:
    """Refuse a JSON document we could not read safely (it may also be empty: no body)."""
    if not raw.strip():
        return
    try:
        document = json.loads(
            raw,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
        )
    except _NumberTooLarge as error:
        raise InvalidInput(errors={"json": [str(error)]}) from None
    except RecursionError:
        raise UnreadableBody(f"JSON nests deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError; webargs says the same
        raise UnreadableBody(errors={"json": ["Invalid JSON body."]}) from None
    walk = (
        b"\x00" in raw
        or _UNSAFE_ESCAPE.search(raw) is not None
        or raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    )
    errors = _unsafe_strings(document) if walk else {}
    if errors:
        raise InvalidInput("The request holds characters that cannot be stored.", errors=errors)


_MESSAGE = "Must not contain NUL characters or unpaired surrogates."


def _is_header(key: str) -> bool:
    return key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")


def _header_name(key: str) -> str:
    return key.removeprefix("HTTP_").replace("_", "-").title()


def _printable(text: str) -> str:
    return _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", text)


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLarge(f"Numbers may have at most {MAX_NUMBER_CHARS} characters.")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLarge(f"Numbers may have at most {MAX_NUMBER_CHARS} characters.")
    number = float(text)
    if not math.isfinite(number):
        raise _NumberTooLarge("Numbers must be finite.")
    return number


def _refuse_constant(text: str) -> float:
    raise _NumberTooLarge(f"{text} is not a JSON number.")


def _unsafe_strings(document: Any) -> dict[str, list[str]]:
    """Each path (``services.1``) holding an unsafe string, walked without recursion."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnreadableBody(f"JSON nests deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, str):
            if _UNSAFE.search(value):
                errors[path or "json"] = [_MESSAGE]
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                if _UNSAFE.search(key):
                    errors[child] = [_MESSAGE]
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), item, depth + 1))
    return errors
