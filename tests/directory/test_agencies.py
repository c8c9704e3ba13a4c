"""Councils and agencies: who reads them, who creates and changes them."""

import pytest
from sqlalchemy import select

from agency.accounts.models import Role
from agency.directory.models import Agency
from agency.directory.service import SlugTaken, slug_taken
from agency.ids import new_id
from agency.unit_of_work import unit_of_work
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
    make_provider,
    make_user,
)


def test_an_admin_lists_every_council(client, session):
    make_council(session)
    make_council(session)
    response = client.get("/councils", headers=bearer(session, make_admin(session)))
    assert response.status_code == 200
    assert len(response.get_json()) == 2


def test_an_auditor_and_a_manager_see_only_their_own_council(client, session):
    mine, other = make_council(session), make_council(session)
    agency = make_agency(session, mine)
    for user in (make_auditor(session, mine), make_manager(session, agency)):
        listed = client.get("/councils", headers=bearer(session, user)).get_json()
        assert [c["id"] for c in listed] == [mine.id]
        assert other.id not in {c["id"] for c in listed}


def test_partners_and_providers_may_not_list_councils(client, session):
    make_council(session)
    _, secret = make_partner(session)
    assert client.get("/councils", headers=api_key(secret)).status_code == 403
    provider_user = make_user(session, Role.PROVIDER)
    assert client.get("/councils", headers=bearer(session, provider_user)).status_code == 403
    assert client.get("/councils").status_code == 401


def test_anyone_signed_in_reads_agencies_public_fields(client, session):
    agency = make_agency(session, base_outcode="BS3", matching_weights={"distance": 0.5})
    make_neighbourhood(session, agency, outcodes=("BS3", "BS13"))
    _, secret = make_partner(session)
    listed = client.get("/agencies", headers=api_key(secret))
    assert listed.status_code == 200
    assert "X-Pagination" in listed.headers
    [body] = listed.get_json()
    assert body["id"] == agency.id
    assert body["neighbourhoods"][0]["outcodes"] == ["BS13", "BS3"]
    assert "matching_weights" not in body and "base_outcode" not in body
    one = client.get(f"/agencies/{agency.id}", headers=api_key(secret))
    assert one.status_code == 200 and one.get_json()["slug"] == agency.slug


def test_an_unknown_agency_is_404(client, session):
    _, secret = make_partner(session)
    assert client.get("/agencies/agy_nope", headers=api_key(secret)).status_code == 404


def test_an_admin_creates_an_agency(client, session):
    council = make_council(session)
    body = {
        "council_id": council.id,
        "name": "BS3 Community",
        "slug": "bs3-community",
        "base_outcode": "bs3",
        "sector": "vcse",
        "size": "small",
    }
    created = client.post("/agencies", json=body, headers=bearer(session, make_admin(session)))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["base_outcode"] == "BS3"
    assert session.scalar(select(Agency).where(Agency.slug == "bs3-community")).sector == "vcse"
    again = client.post("/agencies", json=body, headers=bearer(session, make_admin(session)))
    assert again.status_code == 409


def test_creating_an_agency_names_the_invalid_field(client, session):
    admin = bearer(session, make_admin(session))
    council = make_council(session)
    response = client.post(
        "/agencies", json={"council_id": "cnc_nope", "name": "X", "slug": "x"}, headers=admin
    )
    assert response.status_code == 422
    assert "council_id" in response.get_json()["errors"]
    response = client.post(
        "/agencies",
        json={"council_id": council.id, "name": "X", "slug": "Not A Slug"},
        headers=admin,
    )
    assert response.status_code == 422 and "slug" in response.get_json()["errors"]


def test_only_an_admin_creates_agencies(client, session):
    council = make_council(session)
    body = {"council_id": council.id, "name": "X", "slug": "x"}
    _, secret = make_partner(session)
    assert client.post("/agencies", json=body, headers=api_key(secret)).status_code == 403
    for user in (make_manager(session), make_auditor(session, council)):
        assert client.post("/agencies", json=body, headers=bearer(session, user)).status_code == 403


def test_a_manager_sets_their_own_agencys_matching_weights(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    response = client.patch(
        f"/agencies/{agency.id}", json={"matching_weights": {"distance": 0.4}}, headers=headers
    )
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Agency, agency.id).matching_weights == {"distance": 0.4}


def test_a_manager_may_change_nothing_else_about_their_agency(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    response = client.patch(f"/agencies/{agency.id}", json={"name": "Mine now"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == "admin_only_fields"


def test_matching_weights_must_be_known_features_between_0_and_1(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    for weights in ({"charm": 0.5}, {"distance": 1.5}, {"distance": -0.1}):
        response = client.patch(
            f"/agencies/{agency.id}", json={"matching_weights": weights}, headers=headers
        )
        assert response.status_code == 422
        assert "matching_weights" in response.get_json()["errors"]


def test_an_admin_changes_any_agency_field(client, session):
    agency = make_agency(session)
    response = client.patch(
        f"/agencies/{agency.id}",
        json={"name": "Renamed", "base_outcode": "BS13", "locality": "council_area"},
        headers=bearer(session, make_admin(session)),
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Renamed"
    assert response.get_json()["base_outcode"] == "BS13"


def test_others_may_not_change_an_agency(client, session):
    agency = make_agency(session)
    body = {"matching_weights": {"distance": 0.4}}
    url = f"/agencies/{agency.id}"
    other_manager = make_manager(session, make_agency(session))
    assert client.patch(url, json=body, headers=bearer(session, other_manager)).status_code == 404
    auditor = make_auditor(session, session.get(Agency, agency.id).council)
    assert client.patch(url, json=body, headers=bearer(session, auditor)).status_code == 403
    _, secret = make_partner(session)
    assert client.patch(url, json=body, headers=api_key(secret)).status_code == 403
    provider = make_provider(session, agency)
    provider_user = session.get(type(make_admin(session)), provider.user_id)
    assert client.patch(url, json=body, headers=bearer(session, provider_user)).status_code == 403


def test_a_slug_taken_concurrently_is_a_conflict_not_a_crash(session):
    agency = make_agency(session)
    twin = Agency(id=new_id("agy"), council_id=agency.council_id, name="Twin", slug=agency.slug)
    with (
        pytest.raises(SlugTaken),
        unit_of_work(session, integrity_error=slug_taken("taken")) as uow,
    ):
        session.add(twin)
        uow.commit()
