"""Reads reuse a credential's principal for at most a second; writes read it every time.

A change made through this process's sessions counts at once; one made elsewhere (another
worker: here a plain SQL UPDATE, which no session hook sees) counts for reads within
``TTL_S`` seconds and for writes at once. An access token's expiry is exact.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from agency.access import digest
from agency.accounts import credential_cache
from agency.db import utcnow
from tests.factories import api_key, bearer, make_agency, make_manager, make_partner


@pytest.fixture
def statements():
    """The SQL statements sent from here on."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.fixture
def later(monkeypatch):
    """Move the cache's clock ``seconds`` on from now."""

    def move(seconds: float) -> None:
        moved = credential_cache.monotonic() + seconds
        monkeypatch.setattr(credential_cache, "monotonic", lambda: moved)

    return move


def _revoke_elsewhere(session, sql: str, **values) -> None:
    session.execute(text(sql), values)  # plain SQL: as another process's change looks here
    session.commit()


def test_a_read_reuses_the_key_resolved_a_moment_ago(client, session, statements):
    _, secret = make_partner(session)
    session.commit()
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    assert any("api_keys" in s for s in statements)
    statements.clear()
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    assert not any("api_keys" in s for s in statements)


def test_a_key_revoked_elsewhere_reads_for_a_second_at_most_and_never_writes(
    client, session, later
):
    partner, secret = make_partner(session)
    session.commit()
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    _revoke_elsewhere(
        session, "UPDATE api_keys SET revoked_at = now() WHERE partner_client_id = :p", p=partner.id
    )
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200  # within TTL_S
    write = client.post("/auth/api-keys", json={"name": "new"}, headers=api_key(secret))
    assert write.status_code == 401  # a write reads its key
    later(credential_cache.TTL_S)
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 401


def test_a_partner_deactivated_elsewhere_is_refused_once_the_second_is_up(client, session, later):
    partner, secret = make_partner(session)
    session.commit()
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    _revoke_elsewhere(
        session, "UPDATE partner_clients SET active = false WHERE id = :p", p=partner.id
    )
    later(credential_cache.TTL_S)
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 401


def test_a_key_revoked_in_this_process_is_refused_on_the_next_read(client, session):
    _, secret = make_partner(session)
    session.commit()
    created = client.post("/auth/api-keys", json={"name": "old"}, headers=api_key(secret))
    new_secret = created.get_json()["api_key"]
    assert client.get("/auth/me", headers=api_key(new_secret)).status_code == 200
    revoked = client.delete(f"/auth/api-keys/{created.get_json()['id']}", headers=api_key(secret))
    assert revoked.status_code == 200
    assert client.get("/auth/me", headers=api_key(new_secret)).status_code == 401


def test_a_token_signed_out_in_this_process_is_refused_on_the_next_read(client, session):
    headers = bearer(session, make_manager(session, make_agency(session)))
    assert client.get("/auth/me", headers=headers).status_code == 200
    assert client.post("/auth/logout", headers=headers).status_code in (200, 204)
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_a_user_disabled_elsewhere_is_refused_once_the_second_is_up(client, session, later):
    manager = make_manager(session, make_agency(session))
    headers = bearer(session, manager)
    assert client.get("/auth/me", headers=headers).status_code == 200
    _revoke_elsewhere(session, "UPDATE users SET active = false WHERE id = :u", u=manager.id)
    assert client.get("/auth/me", headers=headers).status_code == 200  # within TTL_S
    assert client.post("/auth/logout", headers=headers).status_code == 401  # a write
    later(credential_cache.TTL_S)
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_a_kept_token_does_not_outlive_its_expiry(client, session):
    manager = make_manager(session, make_agency(session))
    headers = bearer(session, manager)
    soon = utcnow() + dt.timedelta(milliseconds=300)
    _revoke_elsewhere(
        session, "UPDATE auth_tokens SET access_expires_at = :t WHERE user_id = :u", t=soon,
        u=manager.id,
    )  # fmt: skip
    assert client.get("/auth/me", headers=headers).status_code == 200  # kept until `soon`
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.05)  # expired; TTL_S is not up
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_only_accepted_credentials_are_kept_and_by_digest(app, client, session):
    _, secret = make_partner(session)
    session.commit()
    assert client.get("/auth/me", headers=api_key(secret + "x")).status_code == 401
    assert client.get("/auth/me", headers=api_key(secret)).status_code == 200
    kept = app.extensions["agency.credentials"]._entries
    assert "key:" + digest(secret) in kept and "key:" + digest(secret + "x") not in kept
    assert secret not in repr(kept)


def test_a_principal_read_before_a_change_committed_here_is_not_kept(monkeypatch):
    from agency.access import Kind, Principal

    cache = credential_cache.CredentialCache()
    before = credential_cache.local_changes
    monkeypatch.setattr(credential_cache, "local_changes", before + 1)  # a commit meanwhile
    cache.put("key:x", Principal(kind=Kind.PARTNER, id="ptn_x"), before)
    assert cache.get("key:x") is None
