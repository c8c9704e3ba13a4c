"""New passwords are screened NIST SP 800-63B style: length, a shipped list of common and
breached passwords, and context (email, name, the service); no composition rules."""

import pytest

from agency.accounts import service as accounts
from agency.accounts.models import Role
from agency.accounts.passwords import common_passwords, password_problems
from agency.errors import InvalidInput
from tests.providers.providers_helpers import registration_body


def test_the_shipped_list_is_loaded():
    assert len(common_passwords()) > 19_000
    assert "password1234" in common_passwords()


@pytest.mark.parametrize(
    "password",
    ["password1234", "PASSWORD1234", "qwerty123456", "1q2w3e4r5t6y", "monkey12345678!"],
)
def test_common_and_breached_passwords_are_refused(password):
    [problem] = password_problems(password, email="sam@example.org")
    assert "common or breached" in problem


@pytest.mark.parametrize(
    ("password", "email", "names"),
    [
        ("sam.okafor@example.org", "sam.okafor@example.org", ()),
        ("samokafor-is-me-2026", "sam.okafor@example.org", ()),
        ("my agency login 2026", "sam@example.org", ()),
        ("amina companions forever", "amina@example.org", ("Amina's Companions",)),
        ("best-companions-in-bs3", "x@example.org", ("Amina's Companions",)),
    ],
)
def test_passwords_built_from_the_email_name_or_service_are_refused(password, email, names):
    [problem] = password_problems(password, email=email, names=names)
    assert "email address, your name or the service" in problem


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "a long enough pass phrase",
        "всё хорошо, спасибо",
        "tulips in the rain",
    ],
)
def test_long_uncommon_passwords_need_no_digits_capitals_or_symbols(password):
    assert password_problems(password, email="sam@example.org") == []


def test_too_short_and_absurdly_long_passwords_are_refused():
    assert "at least 12" in password_problems("short pass")[0]
    assert "at most 200" in password_problems("x" * 201)[0]


def test_creating_a_user_with_a_common_password_is_refused_naming_the_field(session):
    with pytest.raises(InvalidInput) as refused:
        accounts.create_user(session, email="a@b.test", password="password1234", role=Role.ADMIN)
    assert "common" in refused.value.errors["password"][0]


def test_registration_refuses_a_common_password_and_the_email_as_password(client):
    address = "screened@bedminster.example"
    for password in ("password1234", address):
        body = registration_body(email=address, password=password)
        response = client.post("/providers/register", json=body)
        assert response.status_code == 422, response.get_json()
        assert "password" in response.get_json()["errors"]
