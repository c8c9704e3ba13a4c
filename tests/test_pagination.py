"""Paging bounds: a huge page number is a 422, past the end an empty page (issue 14)."""

import json

from agency.pagination import MAX_PAGE
from tests.factories import api_key, make_partner, make_seeker


def test_a_page_number_past_the_maximum_is_422_not_a_bigint_overflow(client, session):
    _, secret = make_partner(session)
    for page in (MAX_PAGE + 1, 10**21):
        response = client.get(f"/care-seekers?page={page}", headers=api_key(secret))
        assert response.status_code == 422, response.json
        assert set(response.json["errors"]) == {"page"}


def test_the_anonymous_oruk_list_refuses_a_huge_page_with_422(client):
    response = client.get(f"/oruk/services?page={10**21}")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"page"}


def test_a_page_past_the_end_is_empty_and_the_header_keeps_its_number(client, session):
    partner, secret = make_partner(session)
    make_seeker(session, partner.id)
    response = client.get(f"/care-seekers?page={MAX_PAGE}", headers=api_key(secret))
    assert response.status_code == 200
    assert response.json == []
    header = json.loads(response.headers["X-Pagination"])
    assert header["page"] == MAX_PAGE and header["total"] == 1 and header["last_page"] == 1
    assert "next_page" not in header and header["previous_page"] == 1


def test_the_header_of_a_page_inside_the_list_is_unchanged(client, session):
    partner, secret = make_partner(session)
    for _ in range(3):
        make_seeker(session, partner.id)
    response = client.get("/care-seekers?page=2&page_size=1", headers=api_key(secret))
    header = json.loads(response.headers["X-Pagination"])
    assert header == {
        "total": 3,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }


def test_the_document_states_the_largest_page(client):
    spec = client.get("/openapi.json").get_json()
    pages = [
        parameter["schema"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page" and parameter["in"] == "query"
    ]
    assert pages and all(schema["maximum"] == MAX_PAGE for schema in pages)
