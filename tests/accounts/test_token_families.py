"""Refresh-token reuse after rotation revokes every pair rotated from that sign-in."""

from tests.factories import PASSWORD, make_user


def _sign_in(client, email):  # type: ignore[no-untyped-def]
    response = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    return response.get_json()


def _refresh(client, token):  # type: ignore[no-untyped-def]
    return client.post("/auth/refresh", json={"refresh_token": token})


def _me(client, tokens):  # type: ignore[no-untyped-def]
    return client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})


def test_reusing_a_rotated_refresh_token_revokes_the_pair_it_produced(client, session):
    user = make_user(session)
    first = _sign_in(client, user.email)
    second = _refresh(client, first["refresh_token"]).get_json()
    third = _refresh(client, second["refresh_token"]).get_json()
    assert _me(client, third).status_code == 200

    # A stolen copy of the first refresh token is replayed.
    assert _refresh(client, first["refresh_token"]).status_code == 401

    # Whoever holds the newest pair (the thief or the user) is signed out of this sign-in.
    assert _me(client, third).status_code == 401
    assert _refresh(client, third["refresh_token"]).status_code == 401


def test_reuse_revokes_only_that_sign_in_not_the_users_other_sessions(client, session):
    user = make_user(session)
    phone = _sign_in(client, user.email)
    laptop = _sign_in(client, user.email)
    rotated = _refresh(client, phone["refresh_token"]).get_json()
    assert _refresh(client, phone["refresh_token"]).status_code == 401
    assert _me(client, rotated).status_code == 401
    assert _me(client, laptop).status_code == 200
