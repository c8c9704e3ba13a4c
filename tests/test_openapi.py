"""The committed OpenAPI document is the contract: it must match the code, and /docs works offline."""

import json
import re
from pathlib import Path

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_the_committed_openapi_document_matches_the_code(client):
    live = client.get("/openapi.json").get_json()
    committed = json.loads(OPENAPI_FILE.read_text())
    assert live == committed, (
        "the API and openapi/openapi.json differ: run `make openapi` and commit"
    )


def test_every_operation_has_a_summary_and_every_schema_field_an_example_or_description(client):
    spec = client.get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method.upper()} {path} has no summary (docstring)"


def test_every_field_of_every_schema_has_an_example_or_a_description(client):
    spec = client.get("/openapi.json").get_json()
    documented = ("example", "description", "$ref", "items", "enum", "allOf", "anyOf", "oneOf")
    bare = [
        f"{schema}.{field}"
        for schema, body in spec["components"]["schemas"].items()
        for field, prop in body.get("properties", {}).items()
        if not any(key in prop for key in documented)
    ]
    assert bare == [], "give these fields metadata={'example': ...} (or a name in agency/api.py)"


def test_the_interactive_docs_load_without_any_network(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"https?://", html), "docs must not load assets from a CDN"
    for asset in re.findall(r"(?:src|href)=\"(/docs/assets/[^\"]+)\"", html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.get_data()) > 1000


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path, operation


def test_no_operation_hides_its_status_codes_behind_a_default_response(client):
    spec = client.get("/openapi.json").get_json()
    hidden = [f"{m} {p}" for m, p, op in _operations(spec) if "default" in op["responses"]]
    assert hidden == []


def test_each_operation_documents_the_codes_its_inputs_and_credentials_can_cause(client):
    spec = client.get("/openapi.json").get_json()
    for method, path, operation in _operations(spec):
        codes = set(operation["responses"])
        where = f"{method} {path}"
        if operation.get("security") != []:
            assert "401" in codes, where
        if "{" in path:
            assert "404" in codes, where
        assert {"414", "431"} <= codes, where  # gunicorn's limits apply to every request
        if "requestBody" in operation:
            assert {"400", "422"} <= codes, where
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                body = response.get("content", {}).get("application/json", {}).get("schema", {})
                assert "$ref" in response or body == {"$ref": "#/components/schemas/Error"}, (
                    f"{where} {code}"
                )


def test_a_body_with_no_required_field_is_documented_as_optional(client):
    spec = client.get("/openapi.json").get_json()
    optional = {
        (m, p)
        for m, p, op in _operations(spec)
        if op.get("requestBody", {}).get("required") is False
    }
    assert {
        ("POST", "/care-seekers/{seeker_id}/consents/withdraw"),
        ("PATCH", "/care-requests/{request_id}"),
        ("POST", "/isf-accounts/{isf_account_id}/returns"),
    } <= optional
    assert ("POST", "/care-seekers/{seeker_id}/consents") not in optional  # purposes, terms


def test_repeats_and_quarter_hours_the_api_refuses_the_document_refuses_too(client):
    """A client validating against the document (here jsonschema) refuses what the API does."""
    from jsonschema import Draft4Validator

    spec = client.get("/openapi.json").get_json()
    bodies = {
        ("/care-seekers/{seeker_id}/care-requests", "services"): "companionship",
        ("/care-seekers/{seeker_id}/consents", "purposes"): "introductions",
    }
    for (path, field), value in bodies.items():
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        validator = Draft4Validator(spec["components"]["schemas"][name]["properties"][field])
        assert validator.is_valid([value]), (path, field)
        assert not validator.is_valid([value, value]), (path, field)

    hours = spec["components"]["schemas"]["CareRequestCreate"]["properties"]["hours_per_week"]
    assert Draft4Validator(hours).is_valid(2.5) and not Draft4Validator(hours).is_valid(1.25)


def test_window_times_in_the_document_are_exactly_those_the_matcher_reads(client):
    """Every HH:MM from 00:00 to 24:59: the document's pattern (checked by jsonschema) and
    matching's slot parser agree, for a window's start and for its end."""
    from jsonschema import Draft4Validator

    from matching.availability import InvalidWindow, _slot_of

    spec = client.get("/openapi.json").get_json()["components"]["schemas"]
    for name in ("AvailabilityWindow", "CareWindow"):
        properties = spec[name]["properties"]
        for field, midnight in (("start", False), ("end", True)):
            validator = Draft4Validator(properties[field])
            for hours in range(25):
                for minutes in range(60):
                    text = f"{hours:02d}:{minutes:02d}"
                    try:
                        _slot_of(text, allow_midnight_end=midnight)
                        readable = True
                    except InvalidWindow:
                        readable = False
                    assert validator.is_valid(text) == readable, (name, field, text)


def test_anonymous_operations_say_so_and_need_no_credentials(client):
    spec = client.get("/openapi.json").get_json()
    public = {(m, p) for m, p, op in _operations(spec) if op.get("security") == []}
    assert {("POST", "/auth/token"), ("GET", "/health/live"), ("GET", "/oruk/services")} <= public
    assert "404" not in spec["paths"]["/auth/token"]["post"]["responses"]


def test_csv_and_chart_downloads_document_their_media_type(client):
    spec = client.get("/openapi.json").get_json()
    expected = {".csv": "text/csv", ".png": "image/png", ".svg": "image/svg+xml"}
    checked = 0
    for _method, path, operation in _operations(spec):
        suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in expected:
            assert list(operation["responses"]["200"]["content"]) == [expected[suffix]], path
            checked += 1
    assert checked >= 10
    funnel = spec["paths"]["/reports/funnel"]["get"]["responses"]["200"]["content"]
    assert set(funnel) == {"application/json", "text/csv"}  # ?format=csv


def test_links_walk_from_a_care_request_to_its_suggestions_introduction_and_job(client):
    spec = client.get("/openapi.json").get_json()
    created = spec["paths"]["/care-seekers/{seeker_id}/care-requests"]["post"]["responses"]["201"]
    links = created["links"]
    assert {"GetSuggestions", "IntroduceProvider", "PollMatchJob"} <= set(links)
    for link in links.values():
        # each link points at an operation that exists in this document
        _, _, pointer = link["operationRef"].partition("#/paths/")
        path, _, method = pointer.rpartition("/")
        assert method in spec["paths"][path.replace("~1", "/").replace("~0", "~")]
