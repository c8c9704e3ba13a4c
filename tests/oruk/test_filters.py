"""Every uk-profile filter either changes the result (shown here) or answers 422."""

import datetime as dt

import pytest

from agency.db import utcnow
from agency.ids import new_id
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
)
from tests.factories import make_agency, make_provider

LISTS = ("/oruk/services", "/oruk/service_at_locations")


def _ids(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_json())
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return {item.get("service_id", item["id"]) for item in response.get_json()["contents"]}


@pytest.fixture
def cast(session):
    """Five providers that differ in one respect each."""
    agency = make_agency(session)
    people = {
        "gardener": make_provider(
            session,
            agency,
            trading_name="Green Fingers",
            bio="Hedges and lawns.",
            rates={"gardening_repairs": 2000},
        ),
        "companion": make_provider(session, agency, trading_name="Cuppa and Chat"),
        "weekender": make_provider(
            session,
            agency,
            trading_name="Weekend Help",
            windows=[{"weekday": 5, "start": "09:00", "end": "17:00"}],
        ),
        "carer": make_provider(
            session, agency, trading_name="Care at Home", rates={"personal_care": 2400}
        ),
        "far": make_provider(
            session,
            agency,
            trading_name="Thornbury Visits",
            base_outcode="BS35",
            lat=51.5975,
            lon=-2.5485,
            travel_radius_km=3.0,
        ),
    }
    people["carer"].compliance_items.append(
        ComplianceItem(
            id=new_id("cmp"),
            kind=ComplianceKind.CQC_REGISTRATION,
            evidence_reference="1-2",
            expires_on=None,
            status=ComplianceStatus.VERIFIED,
        )
    )
    people["gardener"].updated_at = utcnow() - dt.timedelta(days=400)
    session.commit()
    return {name: p.oruk_id for name, p in people.items()}


def test_each_filter_changes_the_result(client, cast):
    everyone = set(cast.values())
    expectations = {
        "search=hedges": {cast["gardener"]},
        "search=GREEN fingers": {cast["gardener"]},
        "text=chat": {cast["companion"]},
        "search=personal care": {cast["carer"]},
        "taxonomy_term_id=gardening_repairs": {cast["gardener"]},
        "day=SA": {cast["weekender"]},
        "day=monday": everyone - {cast["weekender"]},
        "day=MO&start_time=09:00&end_time=13:00": everyone - {cast["weekender"]},
        "day=MO&start_time=12:00&end_time=14:00": set(),
        "start_time=14:00&end_time=16:00": {cast["weekender"]},
        "postcode=BS3 4AB": everyone - {cast["far"]},
        "postcode=BS35 1AA": {cast["far"]},
        "postcode=BS35&proximity=500": {cast["far"]},
        "postcode=BS3&proximity=100": everyone - {cast["far"]},
        "postcode=BS4&proximity=100": set(),
        f"modified_after={(utcnow() - dt.timedelta(days=30)).isoformat()}": everyone
        - {cast["gardener"]},
    }
    for listing in LISTS:
        assert _ids(client, f"{listing}?per_page=100") == everyone
        for query, expected in expectations.items():
            got = _ids(client, f"{listing}?per_page=100&{query}".replace("+", "%2B"))
            assert got == expected, (listing, query)


def test_organization_id_keeps_that_organisations_service(client, session, cast):
    listed = client.get("/oruk/services?per_page=100").get_json()["contents"]
    organization_of = {item["id"]: item["organization_id"] for item in listed}
    for name in ("gardener", "far"):
        service_id = cast[name]
        for listing in LISTS:
            for organization_id in (
                organization_of[service_id],
                organization_of[service_id].upper(),
            ):
                url = f"{listing}?organization_id={organization_id}"
                assert _ids(client, url) == {service_id}, (listing, name)
    # An organisation that is not published (unknown, or not eligible) lists nothing.
    hidden = make_provider(session, make_agency(session), status=ListingStatus.APPLIED)
    session.commit()
    for organization_id in (hidden.oruk_organization_id, "00000000-0000-5000-8000-000000000000"):
        for listing in LISTS:
            assert _ids(client, f"{listing}?organization_id={organization_id}") == set()


def test_taxonomy_filters_take_uuids_too(client, cast):
    terms = {t["code"]: t["id"] for t in client.get("/oruk/taxonomy_terms").get_json()["contents"]}
    assert _ids(client, f"/oruk/services?taxonomy_term_id={terms['personal_care']}") == {
        cast["carer"]
    }
    taxonomy, _interests = client.get("/oruk/taxonomies").get_json()["contents"]
    # Every listed provider has a term of the service taxonomy; an unknown one is refused.
    assert _ids(client, f"/oruk/services?taxonomy_id={taxonomy['id']}") == set(cast.values())


def test_full_and_minimal_change_the_shape(client, cast):
    plain = client.get("/oruk/services").get_json()["contents"][0]
    full = client.get("/oruk/services?full=true").get_json()["contents"][0]
    minimal = client.get("/oruk/services?minimal=true").get_json()["contents"][0]
    assert "schedules" not in plain and "organization" in plain
    assert {"schedules", "service_areas", "cost_options", "capacity"} <= set(full)
    assert set(minimal) == {"id", "name", "status", "url", "last_modified"}


@pytest.mark.parametrize(
    "query",
    [
        "minimum_age=18",
        "maximum_age=65",
        "format=ndjson",
        "juggling=yes",
        "taxonomy_id=something-else",
        "taxonomy_term_id=juggling",
        "proximity=1000",
        "postcode=nowhere",
        "day=someday",
        "start_time=9am",
        "start_time=09:15",
        "start_time=12:00&end_time=10:00",
        "modified_after=yesterday",
        "modified_after=2024-01-01T00:00:00",
        "page=100001",
        "per_page=101",
    ],
)
def test_unsupported_or_invalid_filters_answer_422(client, session, query):
    for listing in LISTS:
        response = client.get(f"{listing}?{query}")
        assert response.status_code == 422, (listing, query, response.get_json())
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.get_json()["errors"]


def test_taxonomy_lists_refuse_filters_they_do_not_have(client, session):
    for url in ("/oruk/taxonomies?search=x", "/oruk/taxonomy_terms?taxonomy_id=x"):
        assert client.get(url).status_code == 422


def test_cors_is_open_on_every_read_endpoint_and_errors(client, cast):
    service_id = cast["companion"]
    for url in (
        "/oruk/",
        "/oruk/services",
        f"/oruk/services/{service_id}",
        "/oruk/service_at_locations",
        "/oruk/taxonomies",
        "/oruk/taxonomy_terms",
        "/oruk/services/00000000-0000-5000-8000-000000000000",
    ):
        response = client.get(url, headers={"Origin": "https://directory.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
    assert client.get("/oruk/services/nope").status_code == 404
    sal = client.get("/oruk/service_at_locations").get_json()["contents"][0]
    assert (
        client.get(f"/oruk/service_at_locations/{sal['id']}").get_json()["service_id"]
        == (sal["service_id"])
    )
    assert client.get(f"/oruk/service_at_locations/{service_id}").status_code == 404
    assert client.get("/oruk/service_at_locations/nope").status_code == 404
