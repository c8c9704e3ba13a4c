"""Validate ORUK responses against the vendored uk-profile schemas (tests/oruk/schemas/).

Draft 2020-12 with format checks on (uuid, uri, email, date-time: ``jsonschema`` with
``rfc3986-validator`` and ``rfc3339-validator``). Each endpoint maps to the schema the
uk-profile's own OpenAPI document names for it (see schemas/README.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent / "schemas"
_DEFS = json.loads((SCHEMAS / "uk_profile.json").read_text(encoding="utf-8"))
FORMATS = Draft202012Validator.FORMAT_CHECKER
assert {"uuid", "uri", "email", "date-time"} <= set(FORMATS.checkers), "format extras missing"


def _schema(ref: str) -> dict[str, Any]:
    return {"$defs": _DEFS["$defs"], "$ref": f"#/$defs/{ref}"}


def _page_of(item: str) -> dict[str, Any]:
    """The uk-profile's list response: contents of ``item`` and allOf the Page component."""
    return {
        "$defs": _DEFS["$defs"],
        "properties": {"contents": {"type": "array", "items": {"$ref": f"#/$defs/{item}"}}},
        "allOf": [{"$ref": "#/$defs/Page"}],
    }


# (path pattern, schema) in the order the uk-profile's openapi.json lists them.
ENDPOINTS: list[tuple[re.Pattern[str], dict[str, Any]]] = [
    (re.compile(r"^/oruk/$"), _schema("api_info")),
    (re.compile(r"^/oruk/services\?.*full=true"), _page_of("service")),
    (re.compile(r"^/oruk/services(\?.*)?$"), _page_of("service_list")),
    (re.compile(r"^/oruk/services/[^/?]+$"), _schema("service")),
    (re.compile(r"^/oruk/service_at_locations(\?.*)?$"), _page_of("service_at_location_list")),
    (re.compile(r"^/oruk/service_at_locations/[^/?]+$"), _schema("service_at_location")),
    (re.compile(r"^/oruk/taxonomies(\?.*)?$"), _page_of("taxonomy")),
    (re.compile(r"^/oruk/taxonomies/[^/?]+$"), _schema("taxonomy")),
    (re.compile(r"^/oruk/taxonomy_terms(\?.*)?$"), _page_of("taxonomy_term")),
    (re.compile(r"^/oruk/taxonomy_terms/[^/?]+$"), _schema("taxonomy_term")),
]
VALIDATORS = [(p, Draft202012Validator(s, format_checker=FORMATS)) for p, s in ENDPOINTS]


@dataclass
class Tally:
    """Responses validated and every error found, by endpoint."""

    responses: int = 0
    errors: list[str] = field(default_factory=list)
    by_path: dict[str, int] = field(default_factory=dict)

    def check(self, client: Any, url: str) -> Any:
        """GET ``url``, expect 200 with CORS open, validate the body; return it."""
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_json())
        assert response.headers.get("Access-Control-Allow-Origin") == "*", url
        body = response.get_json()
        validator = next((v for p, v in VALIDATORS if p.search(url)), None)
        assert validator is not None, f"no uk-profile schema for {url}"
        self.responses += 1
        key = url.split("?")[0]
        self.by_path[key] = self.by_path.get(key, 0) + 1
        for error in validator.iter_errors(body):
            self.errors.append(f"{url}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
        if isinstance(body, dict) and "contents" in body:
            assert body["size"] == len(body["contents"]), url
            for item in body["contents"]:
                _no_nulls(item, url, self.errors)
        else:
            _no_nulls(body, url, self.errors)
        return body


def _no_nulls(value: Any, url: str, errors: list[str], path: str = "") -> None:
    """Optional fields are left out, never null."""
    if value is None:
        errors.append(f"{url}: {path}: null")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nulls(item, url, errors, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nulls(item, url, errors, f"{path}/{i}")
