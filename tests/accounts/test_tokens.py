"""Sign-in with argon2 passwords, short-lived bearer tokens, rotation and revocation."""

import datetime as dt

from sqlalchemy import select, update

from agency.accounts import service as accounts
from agency.accounts.models import AuthToken, Role, User
from agency.db import utcnow
from tests.factories import PASSWORD, make_agency, make_user


def sign_in(client, email, password=PASSWORD):
    return client.post("/auth/token", json={"email": email, "password": password})


def test_a_user_signs_in_and_the_token_identifies_them(client, session):
    agency = make_agency(session)
    user = make_user(session, Role.MANAGER, agency_id=agency.id)
    response = sign_in(client, user.email.upper())
    assert response.status_code == 201
    tokens = response.get_json()
    assert tokens["token_type"] == "Bearer"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "kind": "manager",
        "id": user.id,
        "agency_id": agency.id,
        "council_id": agency.council_id,  # a manager's council: the one their agency is in
        "provider_id": None,
    }
    assert agency.council_id


def test_passwords_are_stored_as_argon2_hashes(session):
    user = accounts.create_user(
        session, email="a@b.test", password="long enough password", role=Role.ADMIN
    )
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert "long enough password" not in stored


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, session):
    user = make_user(session)
    wrong = sign_in(client, user.email, "wrong password!!")
    unknown = sign_in(client, "nobody@example.test")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"]


def test_a_disabled_user_cannot_sign_in(client, session):
    user = make_user(session, active=False)
    assert sign_in(client, user.email).status_code == 401


def test_a_refresh_token_works_once_and_rotates_the_pair(client, session):
    user = make_user(session)
    first = sign_in(client, user.email).get_json()
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 201
    new = second.get_json()
    assert new["access_token"] != first["access_token"]
    # The old access token stops working; the new one works.
    assert (
        client.get(
            "/auth/me", headers={"Authorization": f"Bearer {first['access_token']}"}
        ).status_code
        == 401
    )
    assert (
        client.get(
            "/auth/me", headers={"Authorization": f"Bearer {new['access_token']}"}
        ).status_code
        == 200
    )
    # The used refresh token is refused (and its reuse revokes the family: test_token_families).
    assert (
        client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code
        == 401
    )


def test_logout_revokes_the_token(client, session):
    user = make_user(session)
    tokens = sign_in(client, user.email).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_an_expired_access_token_is_refused(client, session):
    user = make_user(session)
    tokens = sign_in(client, user.email).get_json()
    session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id)
        .values(access_expires_at=utcnow() - dt.timedelta(seconds=1))
    )
    session.commit()
    assert (
        client.get(
            "/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 401
    )


def test_tokens_are_stored_only_as_digests(client, session):
    user = make_user(session)
    tokens = sign_in(client, user.email).get_json()
    row = session.scalar(select(AuthToken).where(AuthToken.user_id == user.id))
    assert tokens["access_token"] not in (row.access_digest, row.refresh_digest)
    assert len(row.access_digest) == 64


def test_a_short_password_is_refused_with_the_field_named(session):
    import pytest

    from agency.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        accounts.create_user(session, email="x@y.test", password="short", role=Role.ADMIN)
    assert "password" in error.value.errors
