"""A credential changed by another process counts here once PostgreSQL's notification
arrives, not a second later.

Committed for real, with the change feed on, as deployed. Kept credentials would last a
minute here (``TTL_S`` raised), so only the notification can void them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from agency.accounts import credential_cache
from tests.conftest import soon
from tests.factories import api_key, bearer, make_agency, make_manager, make_partner

pytestmark = [pytest.mark.postgres, pytest.mark.committed]


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(settings, change_feed=True)


@pytest.fixture(autouse=True)
def _kept_a_minute(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(credential_cache, "TTL_S", 60.0)


def _me(client, headers):  # type: ignore[no-untyped-def]
    return lambda: client.get("/auth/me", headers=headers).status_code


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_keys SET revoked_at = now() WHERE partner_client_id = :p",
        "UPDATE partner_clients SET active = false WHERE id = :p",
    ],
    ids=["key revoked", "partner deactivated"],
)
def test_a_key_refused_by_another_process_is_refused_once_the_notification_arrives(
    client, session, elsewhere, change
):
    partner, secret = make_partner(session)
    session.commit()
    me = _me(client, api_key(secret))
    assert me() == 200 and me() == 200
    elsewhere(change, p=partner.id)
    assert soon(me, 401) == 401


def test_a_user_disabled_or_signed_out_elsewhere_is_refused_likewise(client, session, elsewhere):
    agency = make_agency(session)
    disabled, signed_out = make_manager(session, agency), make_manager(session, agency)
    first, second = bearer(session, disabled), bearer(session, signed_out)
    session.commit()
    for headers in (first, second):
        assert _me(client, headers)() == 200
    elsewhere("UPDATE users SET active = false WHERE id = :u", u=disabled.id)
    assert soon(_me(client, first), 401) == 401
    elsewhere("UPDATE auth_tokens SET revoked_at = now() WHERE user_id = :u", u=signed_out.id)
    assert soon(_me(client, second), 401) == 401


def test_a_key_merely_used_elsewhere_stays_kept(client, session, elsewhere):
    """A key's last use and a user's last sign-in are not what a principal is read from."""
    partner, secret = make_partner(session)
    session.commit()
    me = _me(client, api_key(secret))
    assert me() == 200 and me() == 200
    elsewhere("UPDATE api_keys SET last_used_at = now() WHERE partner_client_id = :p", p=partner.id)
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert me() == 200
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert not any("api_keys" in s for s in statements)
