"""Neighbourhoods, postcode look-up and the service taxonomy."""

from agency.accounts.models import Role
from agency.directory.models import Neighbourhood
from tests.factories import (
    api_key,
    bearer,
    make_admin,
    make_agency,
    make_auditor,
    make_council,
    make_manager,
    make_neighbourhood,
    make_partner,
    make_user,
)


def test_anyone_signed_in_lists_neighbourhoods_with_their_agency_or_none(client, session):
    agency = make_agency(session)
    covered = make_neighbourhood(session, agency, outcodes=("BS3",), name="A covered")
    make_neighbourhood(session, None, outcodes=("BS13",), council_id=agency.council_id, name="B")
    provider_user = make_user(session, Role.PROVIDER)
    response = client.get("/neighbourhoods", headers=bearer(session, provider_user))
    assert response.status_code == 200
    first, second = response.get_json()
    assert first["id"] == covered.id and first["agency"]["id"] == agency.id
    assert first["outcodes"] == ["BS3"]
    assert second["agency"] is None and second["outcodes"] == ["BS13"]
    only = client.get(
        f"/neighbourhoods?agency_id={agency.id}", headers=bearer(session, provider_user)
    ).get_json()
    assert [n["id"] for n in only] == [covered.id]


def test_an_admin_draws_a_neighbourhood_from_known_outcodes(client, session):
    agency = make_agency(session)
    body = {
        "name": "Bedminster",
        "slug": "bedminster",
        "council_id": agency.council_id,
        "agency_id": agency.id,
        "outcodes": ["bs3", "BS13", "BS3"],
    }
    created = client.post(
        "/neighbourhoods", json=body, headers=bearer(session, make_admin(session))
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["outcodes"] == ["BS13", "BS3"]
    assert created.get_json()["agency"]["id"] == agency.id
    again = client.post("/neighbourhoods", json=body, headers=bearer(session, make_admin(session)))
    assert again.status_code == 409 and again.get_json()["code"] == "slug_taken"


def test_a_neighbourhood_needs_known_whole_outcodes(client, session):
    council = make_council(session)
    admin = bearer(session, make_admin(session))
    for outcodes in (["not a postcode"], ["BS3 4AB"], ["ZZ99"], []):
        body = {"name": "X", "slug": "x", "council_id": council.id, "outcodes": outcodes}
        response = client.post("/neighbourhoods", json=body, headers=admin)
        assert response.status_code == 422, outcodes
        assert "outcodes" in response.get_json()["errors"]


def test_a_neighbourhoods_agency_must_be_in_its_council(client, session):
    council = make_council(session)
    elsewhere = make_agency(session)
    body = {
        "name": "X",
        "slug": "x",
        "council_id": council.id,
        "agency_id": elsewhere.id,
        "outcodes": ["BS3"],
    }
    response = client.post(
        "/neighbourhoods", json=body, headers=bearer(session, make_admin(session))
    )
    assert response.status_code == 422
    assert "agency_id" in response.get_json()["errors"]


def test_an_admin_reassigns_and_redraws_a_neighbourhood(client, session):
    agency = make_agency(session)
    hood = make_neighbourhood(session, agency, outcodes=("BS3", "BS13"))
    response = client.patch(
        f"/neighbourhoods/{hood.id}",
        json={"agency_id": None, "outcodes": ["BS4", "BS13"]},
        headers=bearer(session, make_admin(session)),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["agency"] is None
    assert response.get_json()["outcodes"] == ["BS13", "BS4"]
    session.expire_all()
    assert [o.outcode for o in session.get(Neighbourhood, hood.id).outcodes] == ["BS13", "BS4"]


def test_only_admins_change_neighbourhoods(client, session):
    agency = make_agency(session)
    hood = make_neighbourhood(session, agency)
    body = {"agency_id": None}
    url = f"/neighbourhoods/{hood.id}"
    _, secret = make_partner(session)
    assert client.patch(url, json=body, headers=api_key(secret)).status_code == 403
    for user in (
        make_manager(session, agency),
        make_auditor(session, agency.council),
        make_user(session, Role.PROVIDER),
    ):
        assert client.patch(url, json=body, headers=bearer(session, user)).status_code == 403
        create = {"name": "Y", "slug": "y", "council_id": agency.council_id, "outcodes": ["BS3"]}
        assert (
            client.post("/neighbourhoods", json=create, headers=bearer(session, user)).status_code
            == 403
        )
    missing = client.patch(
        "/neighbourhoods/nbh_nope", json=body, headers=bearer(session, make_admin(session))
    )
    assert missing.status_code == 404


def test_a_postcode_resolves_to_its_neighbourhood_agency_and_council(client, session):
    agency = make_agency(session)
    hood = make_neighbourhood(session, agency, outcodes=("BS3",))
    _, secret = make_partner(session)
    response = client.get("/postcodes/bs3 4ab", headers=api_key(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["outcode"] == "BS3" and body["sector"] == "BS3 4"
    assert body["neighbourhood"]["id"] == hood.id
    assert body["agency"]["id"] == agency.id
    assert body["council"]["id"] == agency.council_id


def test_a_postcode_no_agency_covers_resolves_with_no_agency(client, session):
    _, secret = make_partner(session)
    body = client.get("/postcodes/BS13", headers=api_key(secret)).get_json()
    assert body["outcode"] == "BS13" and body["sector"] is None
    assert body["agency"] is None and body["neighbourhood"] is None and body["council"] is None


def test_an_invalid_or_unknown_postcode_is_422_naming_postcode(client, session):
    _, secret = make_partner(session)
    for postcode in ("nonsense", "ZZ99 9ZZ"):
        response = client.get(f"/postcodes/{postcode}", headers=api_key(secret))
        assert response.status_code == 422
        assert "postcode" in response.get_json()["errors"]


def test_postcodes_need_credentials(client, session):
    assert client.get("/postcodes/BS3").status_code == 401


def test_the_seeded_service_taxonomy_is_listed(client, session):
    _, secret = make_partner(session)
    response = client.get("/service-types", headers=api_key(secret))
    assert response.status_code == 200
    types = {t["key"]: t for t in response.get_json()}
    assert types["companionship"]["regulated"] is False
    assert types["personal_care"]["regulated"] is True
    assert set(types["personal_care"]) == {"key", "name", "description", "regulated"}


def test_redrawing_a_neighbourhood_names_the_invalid_field(client, session):
    agency = make_agency(session)
    hood = make_neighbourhood(session, agency)
    admin = bearer(session, make_admin(session))
    url = f"/neighbourhoods/{hood.id}"
    for body, field in (
        ({"outcodes": ["ZZ99"]}, "outcodes"),
        ({"outcodes": "BS3"}, "outcodes"),
        ({"agency_id": make_agency(session).id}, "agency_id"),
        ({"agency_id": "agy_nope"}, "agency_id"),
        ({"name": ""}, "name"),
    ):
        response = client.patch(url, json=body, headers=admin)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], body


def test_lists_need_credentials_and_cap_their_page_size(client, session):
    admin = bearer(session, make_admin(session))
    for url in ("/councils", "/agencies", "/neighbourhoods"):
        assert client.get(url).status_code == 401, url
        response = client.get(f"{url}?page_size=101", headers=admin)
        assert response.status_code == 422, url
        assert "page_size" in response.get_json()["errors"]
    assert client.get("/service-types").status_code == 401
    assert client.get("/agencies/agy_nope").status_code == 401


def test_anyone_signed_in_reads_one_neighbourhood(client, session):
    agency = make_agency(session)
    hood = make_neighbourhood(session, agency, outcodes=("BS4", "BS3"))
    _, secret = make_partner(session)
    body = client.get(f"/neighbourhoods/{hood.id}", headers=api_key(secret)).get_json()
    assert body["outcodes"] == ["BS3", "BS4"] and body["agency"]["id"] == agency.id
    assert client.get("/neighbourhoods/nbh_nope", headers=api_key(secret)).status_code == 404
    assert client.get(f"/neighbourhoods/{hood.id}").status_code == 401
