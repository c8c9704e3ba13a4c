"""Self-registration is no enumeration oracle: the answer is the same for a new address, a
provider's, a manager's or an admin's; only the mailbox learns which, and only a code
mailed to it creates the account."""

import datetime as dt
import itertools
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from agency.accounts.models import PendingRegistration, Role, User
from agency.providers.models import Provider
from tests.accounts.registration_helpers import mailed_token, outbox
from tests.factories import make_agency, make_user
from tests.providers.providers_helpers import registration_body

_n = itertools.count(1)


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    return replace(
        settings,
        mail_outbox_dir=str(tmp_path / "outbox"),
        registration_limit_per_email="3 per hour",
    )


def _email():  # type: ignore[no-untyped-def]
    return f"registrant{next(_n)}@bedminster.example"


def _register(client, address, **overrides):  # type: ignore[no-untyped-def]
    return client.post(
        "/providers/register",
        json=registration_body(email=address, **overrides),
        environ_base={"REMOTE_ADDR": f"198.18.0.{next(_n) % 250 + 1}"},
    )


def _comparable(response):  # type: ignore[no-untyped-def]
    body = response.get_json()
    body.pop("expires_at")
    return response.status_code, body


def test_taken_and_new_addresses_get_the_same_answer(client, session, settings):
    agency = make_agency(session)
    manager = make_user(session, Role.MANAGER, agency_id=agency.id, email=_email())
    admin = make_user(session, Role.ADMIN, email=_email())
    new = _register(client, _email())
    assert new.status_code == 202
    for taken in (manager.email, admin.email, manager.email.upper()):
        assert _comparable(_register(client, taken)) == _comparable(new)
    # Nothing was created for the taken addresses, and no account yet for the new one.
    assert session.scalar(select(func.count()).select_from(User)) == 2
    assert session.scalar(select(func.count()).select_from(Provider)) == 0
    # The owners of the taken addresses were told, not the caller.
    subjects = {m["To"]: m["Subject"] for m in outbox(settings.mail_outbox_dir)}
    assert subjects[manager.email] == "You already have an account"
    assert subjects[admin.email] == "You already have an account"


def test_the_mailed_code_creates_the_provider_who_then_signs_in(client, session, settings):
    address = _email()
    assert _register(client, address).status_code == 202
    [pending] = session.scalars(select(PendingRegistration)).all()
    assert "BS3 4HT" not in str(pending.payload)  # only the outcode and location are kept
    token = mailed_token(settings.mail_outbox_dir, address)
    confirmed = client.post("/providers/register/confirm", json={"token": token})
    assert confirmed.status_code == 201, confirmed.get_json()
    provider = confirmed.get_json()
    assert provider["id"].startswith("prv_") and provider["base_outcode"] == "BS3"
    assert provider["trading_name"] == "Bedminster Companions"
    signed_in = client.post(
        "/auth/token", json={"email": address, "password": "a long enough pass phrase"}
    )
    assert signed_in.status_code == 201
    me = client.get(
        "/auth/me", headers={"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    )
    assert me.get_json()["provider_id"] == provider["id"]
    # The code works once.
    again = client.post("/providers/register/confirm", json={"token": token})
    assert again.status_code == 404


def test_an_unknown_or_expired_code_is_404(client, session, settings):
    address = _email()
    _register(client, address)
    token = mailed_token(settings.mail_outbox_dir, address)
    assert (
        client.post("/providers/register/confirm", json={"token": "irg_guess"}).status_code == 404
    )
    session.execute(
        update(PendingRegistration).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
    )
    session.commit()
    assert client.post("/providers/register/confirm", json={"token": token}).status_code == 404


def test_registration_refuses_a_guessable_password_whatever_the_address(client, session):
    taken = make_user(session, email=_email())
    for address in (_email(), taken.email):
        for password in ("password1234", address):
            response = _register(client, address, password=password)
            assert response.status_code == 422, response.get_json()
            assert "password" in response.get_json()["errors"]


def test_one_address_cannot_be_flooded_with_codes(client, session):
    address = _email()
    answers = [_register(client, address).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]
