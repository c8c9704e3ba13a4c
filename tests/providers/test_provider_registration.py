"""Micro-providers register themselves, then read and change their own profile only."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from agency.accounts.models import Role, User
from agency.providers.models import Provider
from tests.accounts.registration_helpers import mailed_token
from tests.factories import bearer, make_admin
from tests.providers.providers_helpers import make_world, registration_body


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    return replace(settings, mail_outbox_dir=str(tmp_path / "outbox"))


def test_a_provider_registers_keeping_only_the_outcode_and_can_sign_in(client, session, settings):
    # Registration answers 202 and mails a code; the code creates the account
    # (tests/accounts/test_registration.py: the same answer for a taken address).
    response = client.post("/providers/register", json=registration_body())
    assert response.status_code == 202
    token = mailed_token(settings.mail_outbox_dir, "sam@bedminster.example")
    response = client.post("/providers/register/confirm", json={"token": token})
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("prv_")
    assert body["base_outcode"] == "BS3"
    assert "base_postcode" not in body and "password" not in body
    assert body["locality"] == "council_area"
    assert body["languages"] == ["en", "so"]
    assert body["gender"] == "female"
    provider = session.get(Provider, body["id"])
    user = session.get(User, provider.user_id)
    assert user.role is Role.PROVIDER
    assert user.password_hash.startswith("$argon2")
    token = client.post(
        "/auth/token",
        json={"email": "sam@bedminster.example", "password": "a long enough pass phrase"},
    )
    assert token.status_code == 201
    me = client.get(
        "/auth/me", headers={"Authorization": f"Bearer {token.get_json()['access_token']}"}
    )
    assert me.get_json()["provider_id"] == body["id"]


def test_registration_with_a_taken_email_answers_the_same_and_creates_nothing(
    client, session, settings
):
    first = client.post("/providers/register", json=registration_body())
    token = mailed_token(settings.mail_outbox_dir, "sam@bedminster.example")
    assert client.post("/providers/register/confirm", json={"token": token}).status_code == 201
    again = client.post("/providers/register", json=registration_body(trading_name="Other"))
    assert again.status_code == first.status_code == 202
    assert again.get_json()["message"] == first.get_json()["message"]
    assert len(session.scalars(select(Provider)).all()) == 1


def test_registration_rejects_bad_input_naming_the_field(client):
    cases = {
        "base_postcode": registration_body(base_postcode="NOT A POSTCODE"),
        "password": registration_body(password="short"),
        "organisation_type": registration_body(organisation_type="empire"),
        "travel_radius_km": registration_body(travel_radius_km=500),
        "email": registration_body(email="nope"),
    }
    for field, body in cases.items():
        response = client.post("/providers/register", json=body)
        assert response.status_code == 422, field
        assert field in response.get_json()["errors"], field
    missing = registration_body()
    del missing["trading_name"]
    response = client.post("/providers/register", json=missing)
    assert response.status_code == 422
    assert "trading_name" in response.get_json()["errors"]


def test_the_provider_and_those_it_applied_to_read_the_profile(client, session):
    w = make_world(session)
    for headers in (w.me, w.manager, w.auditor):
        response = client.get(f"/providers/{w.provider.id}", headers=headers)
        assert response.status_code == 200
        assert response.get_json()["trading_name"] == w.provider.trading_name


def test_strangers_cannot_read_a_profile(client, session):
    w = make_world(session)
    for headers in (w.other_provider, w.other_manager, w.other_auditor):
        assert client.get(f"/providers/{w.provider.id}", headers=headers).status_code == 404
    assert client.get(f"/providers/{w.provider.id}", headers=w.partner).status_code == 403
    assert client.get(f"/providers/{w.provider.id}").status_code == 401


def test_a_provider_changes_its_profile_and_a_new_postcode_moves_it(client, session):
    w = make_world(session)
    response = client.patch(
        f"/providers/{w.provider.id}",
        json={"base_postcode": "BS16 1QY", "bio": "Now in Fishponds.", "travel_radius_km": 8},
        headers=w.me,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["base_outcode"] == "BS16"
    assert body["bio"] == "Now in Fishponds."
    assert body["travel_radius_km"] == 8
    assert body["trading_name"] == w.provider.trading_name


def test_a_profile_change_is_validated_like_registration(client, session):
    w = make_world(session)
    for field, value in (("travel_radius_km", 0), ("base_postcode", "XX"), ("trading_name", "")):
        response = client.patch(f"/providers/{w.provider.id}", json={field: value}, headers=w.me)
        assert response.status_code == 422, field
        assert field in response.get_json()["errors"], field


def test_nobody_else_changes_a_profile(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}"
    assert client.patch(url, json={"bio": "x"}, headers=w.other_provider).status_code == 404
    assert client.patch(url, json={"bio": "x"}, headers=w.other_manager).status_code == 403
    assert client.patch(url, json={"bio": "x"}, headers=w.manager).status_code == 403
    assert client.patch(url, json={"bio": "x"}, headers=w.auditor).status_code == 403
    assert client.patch(url, json={"bio": "x"}, headers=w.partner).status_code == 403
    session.refresh(w.provider)
    assert w.provider.bio is None


def test_an_admin_may_correct_a_profile(client, session):
    w = make_world(session)
    admin = bearer(session, make_admin(session))
    response = client.patch(f"/providers/{w.provider.id}", json={"bio": "fixed"}, headers=admin)
    assert response.status_code == 200
