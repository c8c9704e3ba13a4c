"""Each operation's real responses in the OpenAPI document, instead of one ``default``:
status codes derived from the routes' access rules, parameters and bodies, the codes the
services raise beyond those, links between the main flows, and the media types of reports."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

from agency.pagination import MAX_PAGE

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# Codes a view raises beyond what complete_responses derives (409s, 403s from services...):
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


def _optional_when_nothing_required(body: dict[str, Any], components: Any) -> None:
    """A JSON body none of whose fields is required may be left out (an action such as
    withdrawing consent, or a PATCH that changes nothing): webargs reads a missing body as
    ``{}``, so the document says ``required: false`` for it rather than flask-smorest's
    default ``true``."""
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = components.schemas.get(ref.rsplit("/", 1)[-1], {})
    if schema.get("type") == "object" and not schema.get("required"):
        body["required"] = False


_MEDIA_BY_SUFFIX = {".csv": "text/csv", ".png": "image/png", ".svg": "image/svg+xml"}


def complete_responses(spec: Any, access_by_path: dict[tuple[str, str], Any]) -> None:
    """State each operation's real status codes instead of one ``default`` response.

    Derived from what the code already says: 401 (and 403 when only some kinds of
    principal may call) from the access rule, 404 from path parameters and bodies that
    name other objects, 422 from any parameter or body (the edge refuses unsafe strings
    in all of them), 400 from a JSON body, 403 for writes (auditors read only), 409 for
    writes to an existing object (state machines, versions), 414 and 431 everywhere
    (gunicorn's limits on the request line and headers: ``agency.web.gunicorn_worker``
    answers them in the error format); plus the
    codes views declare with ``@blp.alt_response`` and :data:`EXTRA_RESPONSES`. Error
    responses carry the one error body; reports document the media types they return.
    ``access_by_path``: the access rule of each (method, path), from ``agency.api``.
    """
    components = spec.components
    error_content = {"application/json": {"schema": components.get_ref("schema", "Error")}}
    _drop_null_keywords(spec._paths)  # noqa: SLF001 - apispec keeps paths here
    _drop_null_keywords(components.schemas)
    for path, item in spec._paths.items():  # noqa: SLF001
        path_parameters = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        for method, operation in item.items():
            if method.upper() not in METHODS:
                continue
            key = (method.upper(), path)
            access = access_by_path.get(key)
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            # Any request line or header can be too long: gunicorn refuses it before the app.
            codes: set[int] = {414, 431, *EXTRA_RESPONSES.get(key, ())}
            has_body = "requestBody" in operation
            if has_body:
                _optional_when_nothing_required(operation["requestBody"], components)
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
