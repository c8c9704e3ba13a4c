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
