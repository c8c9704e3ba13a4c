"""The SSRF guard on webhook targets, called directly: IP literals resolve locally, so no
test here sends or even looks up anything on the network."""

import pytest

from agency.config import ConfigError, Settings
from agency.webhooks.safety import UnsafeUrl, check_url
from tests.factories import api_key, make_partner


def _refused(url: str) -> list[str]:
    with pytest.raises(UnsafeUrl) as caught:
        check_url(url, allow_private=False)
    assert caught.value.errors["url"]
    return caught.value.errors["url"]


def test_a_6to4_address_embedding_the_metadata_service_is_refused():
    _refused("https://[2002:a9fe:a9fe::1]/hook")


def test_a_6to4_address_embedding_a_private_address_is_refused():
    _refused("https://[2002:c0a8:0001::1]/hook")  # 192.168.0.1


def test_a_teredo_address_is_refused():
    _refused("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook")


def test_a_public_ipv6_address_is_accepted_and_pinned():
    assert check_url("https://[2606:4700:4700::1111]/hook", allow_private=False) == (
        "2606:4700:4700::1111"
    )


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http", "0"])
def test_an_out_of_range_port_is_refused_as_invalid_input(port):
    _refused(f"https://hooks.example.org:{port}/hook")


def test_an_out_of_range_port_is_refused_even_when_private_targets_are_allowed():
    with pytest.raises(UnsafeUrl):
        check_url("http://localhost:70000/", allow_private=True)


def test_the_api_answers_422_for_an_out_of_range_port(client, session):
    _partner, secret = make_partner(session)
    response = client.post(
        "/webhook-endpoints",
        json={"url": "https://hooks.example.org:99999/x", "events": ["introduction.approved"]},
        headers=api_key(secret),
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "unsafe_webhook_url"


def test_production_refuses_private_webhook_targets():
    settings = Settings.from_env(
        {
            "AGENCY_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgresql://u@h/db",
            "WEBHOOK_ALLOW_PRIVATE": "true",
        }
    )
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_PRIVATE"):
        settings.check()
