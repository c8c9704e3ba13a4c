"""Registering, reading, listing and changing care seekers; who may do which."""

from sqlalchemy import func, select

from agency.accounts.models import User
from agency.seekers.models import CareSeeker, Consent
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.seekers.seekers_helpers import consent_body, covered_agency, register, seeker_body


def test_a_partner_registers_a_seeker_with_consent_keeping_only_outcode_and_sector(client, session):
    partner, secret = make_partner(session)
    response = client.post("/care-seekers", json=seeker_body(), headers=api_key(secret))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/care-seekers/{body['id']}"
    assert body["outcode"] == "BS3"
    assert body["sector"] == "BS3 4"
    assert body["display_name"] == "Maggie"
    assert body["has_consent"] is True
    assert body["consent"]["purposes"] == ["introductions", "share_with_providers"]
    assert body["erased"] is False
    assert "postcode" not in body
    stored = session.get(CareSeeker, body["id"])
    assert stored.partner_client_id == partner.id
    assert "4AA" not in str([stored.outcode, stored.sector, stored.reference])


def test_an_outcode_alone_is_accepted(client, session):
    _, secret = make_partner(session)
    body = register(client, secret, postcode="bs16")
    assert body["outcode"] == "BS16"
    assert body["sector"] is None


def test_without_consent_nothing_is_stored_and_the_error_names_consent(client, session):
    _, secret = make_partner(session)
    body = seeker_body()
    del body["consent"]
    response = client.post("/care-seekers", json=body, headers=api_key(secret))
    assert response.status_code == 422
    assert "consent" in response.get_json()["errors"]
    assert session.scalar(select(func.count()).select_from(CareSeeker)) == 0
    assert session.scalar(select(func.count()).select_from(Consent)) == 0


def test_consent_needs_known_purposes_and_a_time_not_in_the_future(client, session):
    _, secret = make_partner(session)
    for consent in (
        consent_body(purposes=[]),
        consent_body(purposes=["marketing"]),
        consent_body(given_at="2999-01-01T00:00:00Z"),
        consent_body(given_at="2026-01-05T10:00:00"),
    ):
        response = client.post(
            "/care-seekers", json=seeker_body(consent=consent), headers=api_key(secret)
        )
        assert response.status_code == 422, consent
        assert "consent" in response.get_json()["errors"]


def test_invalid_or_unknown_postcodes_are_422_naming_postcode(client, session):
    _, secret = make_partner(session)
    for postcode in ("not a postcode", "ZZ9 9ZZ"):
        response = client.post(
            "/care-seekers", json=seeker_body(postcode=postcode), headers=api_key(secret)
        )
        assert response.status_code == 422, postcode
        assert "postcode" in response.get_json()["errors"]


def test_missing_fields_and_bad_values_are_422_naming_each(client, session):
    _, secret = make_partner(session)
    body = seeker_body(contact_preference="pigeon")
    del body["reference"]
    response = client.post("/care-seekers", json=body, headers=api_key(secret))
    assert response.status_code == 422
    assert {"reference", "contact_preference"} <= set(response.get_json()["errors"])


def test_a_reference_is_unique_per_partner_but_not_across_partners(client, session):
    _, secret = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    register(client, secret)
    again = client.post("/care-seekers", json=seeker_body(), headers=api_key(secret))
    assert again.status_code == 409
    assert again.get_json()["code"] == "reference_taken"
    assert (
        client.post("/care-seekers", json=seeker_body(), headers=api_key(other_secret)).status_code
        == 201
    )


def test_only_partners_register_seekers(client, session):
    agency = covered_agency(session)
    provider = make_provider(session, agency)
    for user in (
        make_manager(session, agency),
        make_auditor(session),
        session.get(User, provider.user_id),
    ):
        response = client.post("/care-seekers", json=seeker_body(), headers=bearer(session, user))
        assert response.status_code == 403


def test_a_partner_lists_only_its_own_seekers_paginated_and_by_reference(client, session):
    _, secret = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    for n in range(3):
        register(client, secret, reference=f"mine-{n}")
    register(client, other_secret, reference="theirs")
    page = client.get("/care-seekers?page_size=2", headers=api_key(secret))
    assert page.status_code == 200
    assert len(page.get_json()) == 2
    assert '"total": 3' in page.headers["X-Pagination"]
    found = client.get("/care-seekers?reference=mine-1", headers=api_key(secret)).get_json()
    assert [s["reference"] for s in found] == ["mine-1"]
    assert client.get("/care-seekers?reference=theirs", headers=api_key(secret)).get_json() == []


def test_listing_seekers_is_for_partners(client, session):
    manager = make_manager(session)
    assert client.get("/care-seekers", headers=bearer(session, manager)).status_code == 403


def test_a_partner_reads_and_changes_its_seeker(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    read = client.get(f"/care-seekers/{seeker['id']}", headers=api_key(secret))
    assert read.status_code == 200
    assert read.get_json()["display_name"] == "Maggie"
    changed = client.patch(
        f"/care-seekers/{seeker['id']}",
        json={"display_name": "Margaret", "postcode": "BS4 1AA"},
        headers=api_key(secret),
    )
    assert changed.status_code == 200
    assert changed.get_json()["display_name"] == "Margaret"
    assert changed.get_json()["outcode"] == "BS4"


def test_a_seeker_change_is_validated(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    for body, field in (
        ({"display_name": ""}, "display_name"),
        ({"postcode": "nowhere"}, "postcode"),
        ({"reference": "new"}, "reference"),
    ):
        response = client.patch(f"/care-seekers/{seeker['id']}", json=body, headers=api_key(secret))
        assert response.status_code == 422
        assert field in response.get_json()["errors"]


def test_another_partner_cannot_see_or_change_a_seeker(client, session):
    _, secret = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    seeker = register(client, secret)
    url = f"/care-seekers/{seeker['id']}"
    assert client.get(url, headers=api_key(other_secret)).status_code == 404
    response = client.patch(url, json={"display_name": "X"}, headers=api_key(other_secret))
    assert response.status_code == 404


def test_a_manager_reads_a_seeker_with_a_request_in_their_agency_but_cannot_change_it(
    client, session
):
    partner, _ = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, agency)
    headers = bearer(session, make_manager(session, agency))
    read = client.get(f"/care-seekers/{seeker.id}", headers=headers)
    assert read.status_code == 200
    assert read.get_json()["display_name"] == seeker.display_name
    response = client.patch(
        f"/care-seekers/{seeker.id}", json={"display_name": "X"}, headers=headers
    )
    assert response.status_code == 403


def test_a_manager_of_another_agency_gets_404(client, session):
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, covered_agency(session))
    headers = bearer(session, make_manager(session))
    assert client.get(f"/care-seekers/{seeker.id}", headers=headers).status_code == 404
    response = client.patch(
        f"/care-seekers/{seeker.id}", json={"display_name": "X"}, headers=headers
    )
    assert response.status_code == 404


def test_auditors_never_see_seeker_names_and_providers_see_nothing(client, session):
    partner, _ = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, agency)
    auditor = make_auditor(session, agency.council)
    response = client.get(f"/care-seekers/{seeker.id}", headers=bearer(session, auditor))
    assert response.status_code == 403
    assert seeker.display_name not in response.get_data(as_text=True)
    write = client.patch(
        f"/care-seekers/{seeker.id}", json={"display_name": "X"}, headers=bearer(session, auditor)
    )
    assert write.status_code == 403
    provider_user = session.get(User, make_provider(session, agency).user_id)
    headers = bearer(session, provider_user)
    assert client.get(f"/care-seekers/{seeker.id}", headers=headers).status_code == 404
    elsewhere = bearer(session, make_auditor(session))
    assert client.get(f"/care-seekers/{seeker.id}", headers=elsewhere).status_code == 404
