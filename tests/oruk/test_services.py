"""The Open Referral UK view: public, ORUK-paged, only approved providers with in-date checks."""

import datetime as dt
import json
import uuid

from agency.directory.eligibility import london_today
from agency.providers.models import ComplianceStatus, ListingStatus
from tests.factories import make_agency, make_provider

YESTERDAY = london_today() - dt.timedelta(days=1)
ENVELOPE = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


def test_services_are_public_and_paged_the_oruk_way(client, session):
    agency = make_agency(session)
    for name in ("Aled", "Bethan", "Carys"):
        make_provider(session, agency, trading_name=name)
    first = client.get("/oruk/services?page=1&per_page=2")
    assert first.status_code == 200
    body = first.get_json()
    assert set(body) == ENVELOPE
    assert body["total_items"] == 3 and body["total_pages"] == 2
    assert body["page_number"] == 1 and body["size"] == 2
    assert body["first_page"] is True and body["last_page"] is False and body["empty"] is False
    assert [s["name"] for s in body["contents"]] == ["Aled", "Bethan"]
    last = client.get("/oruk/services?page=2&per_page=2").get_json()
    assert [s["name"] for s in last["contents"]] == ["Carys"]
    assert last["first_page"] is False and last["last_page"] is True
    beyond = client.get("/oruk/services?page=3&per_page=2").get_json()
    assert beyond["empty"] is True and beyond["contents"] == []


def test_an_empty_directory_is_one_empty_last_page(client, session):
    body = client.get("/oruk/services").get_json()
    assert body["total_items"] == 0 and body["empty"] is True
    assert body["first_page"] is True and body["last_page"] is True and body["size"] == 0


def test_unapproved_or_expired_providers_never_appear(client, session):
    agency = make_agency(session)
    shown = make_provider(session, agency)
    hidden = [
        make_provider(session, agency, status=ListingStatus.APPLIED),
        make_provider(session, agency, status=ListingStatus.REJECTED),
        make_provider(session, agency, status=ListingStatus.SUSPENDED),
        make_provider(session, agency, compliant_until=YESTERDAY),
        make_provider(session, agency, compliant_until=None),
        make_provider(session, None),
    ]
    unverified = make_provider(session, agency)
    unverified.compliance_items[0].status = ComplianceStatus.REJECTED
    session.commit()
    hidden.append(unverified)
    listed = client.get("/oruk/services?per_page=100").get_json()
    assert [s["id"] for s in listed["contents"]] == [shown.oruk_id]
    assert listed["total_items"] == 1
    for provider in hidden:
        assert client.get(f"/oruk/services/{provider.oruk_id}").status_code == 404
        assert client.get(f"/oruk/services/{provider.id}").status_code == 404
    for term in ("companionship", "shopping_errands"):
        page = client.get(f"/oruk/services?taxonomy_term_id={term}").get_json()
        assert [s["id"] for s in page["contents"]] == [shown.oruk_id]


def test_a_service_maps_the_provider_without_personal_details(client, session):
    agency = make_agency(session)
    provider = make_provider(
        session,
        agency,
        trading_name="Aled's Help",
        bio="Retired nurse.",
        languages=["en", "cy"],
        travel_radius_km=7.5,
        rates={"companionship": 1850},
    )
    response = client.get(f"/oruk/services/{provider.oruk_id}")
    assert response.status_code == 200
    service = response.get_json()
    assert service["id"] == provider.oruk_id and service["name"] == "Aled's Help"
    assert uuid.UUID(service["id"]).version == 5
    assert service["description"] == "Retired nurse." and service["status"] == "active"
    assert service["organization"]["name"] == "Aled's Help"
    assert service["organization"]["description"] == "Retired nurse."
    assert service["url"] == f"http://localhost/oruk/services/{provider.oruk_id}"
    assert "email" not in service and "fees_description" not in service
    assert service["fees"] == "From £18.50 per hour"
    [area] = service["service_areas"]
    assert area["extent_type"] == "geojson" and "7.5 km" in area["name"]
    polygon = json.loads(area["extent"])
    assert (
        polygon["type"] == "Polygon"
        and polygon["coordinates"][0][0] == polygon["coordinates"][0][-1]
    )
    assert [lang["code"] for lang in service["languages"]] == ["en", "cy"]
    [cost] = service["cost_options"]
    assert cost["currency"] == "GBP" and cost["amount"] == 18.5
    assert cost["amount_description"] == "per hour" and cost["option"] == "Companionship"
    [attribute] = service["attributes"]
    assert attribute["taxonomy_term"]["code"] == "companionship"
    assert attribute["taxonomy_term_id"] == attribute["taxonomy_term"]["id"]
    assert attribute["taxonomy_term"]["vocabulary"] == "introductory-agency-services"
    for child in (area, cost, attribute, *service["languages"]):
        uuid.UUID(child["id"])
    [schedule] = service["schedules"]
    assert schedule["freq"] == "WEEKLY" and schedule["byday"] == "MO,TU,WE,TH,FR"
    assert (schedule["opens_at"], schedule["closes_at"]) == ("09:00", "13:00")
    text = response.get_data(as_text=True)
    assert provider.user_id not in text and "@" not in text and "lat" not in service
    assert provider.id not in text
    again = client.get(f"/oruk/services/{provider.id}").get_json()  # our own id works too
    assert again["cost_options"][0]["id"] == cost["id"] and again["id"] == service["id"]


def test_services_filter_by_postcode(client, session):
    agency = make_agency(session)
    near = make_provider(session, agency)
    assert [
        s["id"] for s in client.get("/oruk/services?postcode=BS3 4AB").get_json()["contents"]
    ] == [near.oruk_id]
    assert client.get("/oruk/services?postcode=BS35").get_json()["contents"] == []


def test_invalid_paging_and_filters_are_422_naming_the_parameter(client, session):
    for query, field in (
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("per_page=x", "per_page"),
        ("taxonomy_term_id=juggling", "taxonomy_term_id"),
        ("postcode=nowhere", "postcode"),
    ):
        response = client.get(f"/oruk/services?{query}")
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"], query
    assert client.get("/oruk/taxonomies?per_page=0").status_code == 422


def test_taxonomies_list_service_types_and_activity_interests_apart(client, session):
    response = client.get("/oruk/taxonomies")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ENVELOPE and body["total_items"] == 2
    taxonomy, interests = body["contents"]
    assert taxonomy["name"] == "introductory-agency-services"
    assert interests["name"] == "introductory-agency-activity-interests"
    full = client.get(f"/oruk/taxonomies/{taxonomy['id']}").get_json()
    terms = {t["code"]: t for t in full["taxonomy_terms"]}
    assert len(terms) == 9 and terms["personal_care"]["name"] == "Personal care"
    assert {t["taxonomy_id"] for t in terms.values()} == {taxonomy["id"]}
    listed = client.get("/oruk/taxonomy_terms").get_json()
    assert listed["total_items"] == 9 + 12  # service types, then the 12 activity interests
    paged = client.get("/oruk/taxonomy_terms?page=5&per_page=5").get_json()
    assert len(paged["contents"]) == 1 and paged["last_page"] is True and paged["size"] == 1
    term = terms["personal_care"]
    assert client.get(f"/oruk/taxonomy_terms/{term['id']}").get_json() == term
    assert client.get("/oruk/taxonomy_terms/personal_care").get_json() == term
    assert client.get("/oruk/taxonomy_terms/juggling").status_code == 404
    assert client.get("/oruk/taxonomies/somewhere-else").status_code == 404


def test_the_api_root_names_the_oruk_version(client, session):
    body = client.get("/oruk/").get_json()
    assert body["version"] == "3.0"
    assert body["openapi_url"] == "http://localhost/openapi.json"
