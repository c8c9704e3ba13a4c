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


def test_each_sort_parameter_lists_exactly_what_its_query_can_sort_by(client):
    from agency.directory.provider_directory import SORTABLE
    from agency.providers.vetting import LISTING_SORTS
    from agency.seekers.requests_service import SORTS

    spec = client.get("/openapi.json").get_json()
    sorts = {
        ("/care-requests", "get"): SORTS,
        ("/agencies/{agency_id}/providers", "get"): SORTABLE,
        ("/providers/listings", "get"): LISTING_SORTS,
    }
    for (path, method), allowed in sorts.items():
        (parameter,) = [p for p in spec["paths"][path][method]["parameters"] if p["name"] == "sort"]
        assert sorted(parameter["schema"]["enum"]) == sorted(
            [*allowed, *(f"-{key}" for key in allowed)]
        ), path


def test_an_unknown_sort_is_422_naming_the_choices(client, session):
    _, secret = make_partner(session)
    response = client.get("/care-requests?sort=-name", headers=api_key(secret))
    assert response.status_code == 422
    assert response.json["errors"] == {
        "sort": ["Sort by one of: created_at, start_date, urgency (prefix - to reverse)."]
    }
