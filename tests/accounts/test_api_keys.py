"""Partner API keys: random, shown once, stored hashed, revocable, with a readable prefix."""

import datetime as dt

from sqlalchemy import select, update

from agency.accounts.models import ApiKey
from agency.db import utcnow
from tests.factories import api_key, make_partner


def test_a_key_authenticates_its_partner(client, session):
    partner, secret = make_partner(session)
    me = client.get("/auth/me", headers=api_key(secret))
    assert me.status_code == 200
    assert me.get_json()["kind"] == "partner"
    assert me.get_json()["id"] == partner.id


def test_a_new_key_is_shown_once_and_stored_as_a_digest(client, session):
    _, secret = make_partner(session)
    created = client.post("/auth/api-keys", json={"name": "mobile app"}, headers=api_key(secret))
    assert created.status_code == 201
    body = created.get_json()
    assert body["api_key"].startswith(body["prefix"] + "_")
    listed = client.get("/auth/api-keys", headers=api_key(secret)).get_json()
    assert len(listed) == 2
    assert all("api_key" not in key for key in listed)
    stored = session.scalars(select(ApiKey.key_digest)).all()
    assert body["api_key"] not in stored
    assert client.get("/auth/me", headers=api_key(body["api_key"])).status_code == 200


def test_a_revoked_key_stops_working(client, session):
    _, secret = make_partner(session)
    created = client.post(
        "/auth/api-keys", json={"name": "old"}, headers=api_key(secret)
    ).get_json()
    revoked = client.delete(f"/auth/api-keys/{created['id']}", headers=api_key(secret))
    assert revoked.status_code == 200
    assert revoked.get_json()["revoked_at"] is not None
    assert client.get("/auth/me", headers=api_key(created["api_key"])).status_code == 401
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200


def test_a_partner_cannot_see_or_revoke_another_partners_key(client, session):
    _, mine = make_partner(session, name="mine")
    _, theirs = make_partner(session, name="theirs")
    their_key = client.get("/auth/api-keys", headers=api_key(theirs)).get_json()[0]
    response = client.delete(f"/auth/api-keys/{their_key['id']}", headers=api_key(mine))
    assert response.status_code == 404
    assert client.get("/auth/me", headers=api_key(theirs)).status_code == 200
    assert [k["id"] for k in client.get("/auth/api-keys", headers=api_key(mine)).get_json()] != [
        their_key["id"]
    ]


def test_an_empty_key_name_is_422_naming_the_field(client, session):
    _, secret = make_partner(session)
    response = client.post("/auth/api-keys", json={"name": ""}, headers=api_key(secret))
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]


def test_a_keys_last_use_is_recorded_at_most_once_a_minute(client, session):
    _, secret = make_partner(session)
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    first = client.get("/auth/api-keys", headers=api_key(secret)).get_json()[0]["last_used_at"]
    assert first is not None
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    listed = client.get("/auth/api-keys", headers=api_key(secret)).get_json()
    assert listed[0]["last_used_at"] == first  # within the minute: no write
    session.execute(update(ApiKey).values(last_used_at=utcnow() - dt.timedelta(minutes=2)))
    session.commit()
    client.get("/auth/me", headers=api_key(secret))
    later = client.get("/auth/api-keys", headers=api_key(secret)).get_json()[0]["last_used_at"]
    assert later >= first
