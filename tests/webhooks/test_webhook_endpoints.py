"""A partner registers, lists, rotates and deletes its webhook endpoints; nobody else can."""

import pytest

from agency.accounts.models import Role
from agency.webhooks.safety import UnsafeUrl, check_url
from tests.factories import api_key, bearer, make_manager, make_partner, make_user

BODY = {"url": "https://partner.example/hooks", "events": ["introduction.accepted"]}


def _register(client, headers, **body):
    return client.post("/webhook-endpoints", json={**BODY, **body}, headers=headers)


def test_a_partner_registers_an_endpoint_and_sees_its_secret_once(client, session):
    _, secret = make_partner(session)
    headers = api_key(secret)
    response = _register(client, headers, description="production")
    assert response.status_code == 201
    body = response.get_json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["introduction.accepted"]
    listed = client.get("/webhook-endpoints", headers=headers).get_json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    one = client.get(f"/webhook-endpoints/{body['id']}", headers=headers).get_json()
    assert "secret" not in one


def test_unknown_events_and_bad_urls_are_422_naming_the_field(client, session):
    _, secret = make_partner(session)
    headers = api_key(secret)
    response = _register(client, headers, events=["introduction.teleported"])
    assert response.status_code == 422
    assert "events" in response.get_json()["errors"]
    response = _register(client, headers, events=[])
    assert "events" in response.get_json()["errors"]
    response = _register(client, headers, url="not a url")
    assert "url" in response.get_json()["errors"]


def test_only_partners_manage_endpoints_and_only_their_own(client, session):
    _, secret = make_partner(session)
    _, other = make_partner(session)
    endpoint_id = _register(client, api_key(secret)).get_json()["id"]
    manager = bearer(session, make_manager(session))
    assert client.get("/webhook-endpoints", headers=manager).status_code == 403
    assert _register(client, manager).status_code == 403
    assert (
        client.get(f"/webhook-endpoints/{endpoint_id}", headers=api_key(other)).status_code == 404
    )
    assert (
        client.delete(f"/webhook-endpoints/{endpoint_id}", headers=api_key(other)).status_code
        == 404
    )
    rotate = f"/webhook-endpoints/{endpoint_id}/rotate-secret"
    assert client.post(rotate, headers=api_key(other)).status_code == 404
    assert client.get("/webhook-endpoints", headers=api_key(other)).get_json() == []


def test_a_partner_rotates_a_secret_and_deletes_an_endpoint(client, session):
    _, secret = make_partner(session)
    headers = api_key(secret)
    created = _register(client, headers).get_json()
    rotated = client.post(f"/webhook-endpoints/{created['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"].startswith("whsec_")
    assert rotated.get_json()["secret"] != created["secret"]
    assert client.delete(f"/webhook-endpoints/{created['id']}", headers=headers).status_code == 204
    assert client.get(f"/webhook-endpoints/{created['id']}", headers=headers).status_code == 404
    assert client.get("/webhook-endpoints", headers=headers).get_json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hooks",  # not https
        "https://127.0.0.1/hooks",  # loopback
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",  # private
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://user:pw@93.184.215.14/hooks",
        "ftp://93.184.215.14/hooks",
    ],
)
def test_production_refuses_http_and_private_addresses(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False)


def test_a_public_https_address_is_allowed_and_development_may_allow_private():
    check_url("https://93.184.215.14/hooks", allow_private=False)
    check_url("http://127.0.0.1:8000/hooks", allow_private=True)


def test_registration_refuses_a_private_url_when_not_allowed(app, client, session):
    app.extensions["agency"].settings.webhook_allow_private = False
    _, secret = make_partner(session)
    response = _register(client, api_key(secret), url="https://127.0.0.1/hooks")
    assert response.status_code == 422
    assert response.get_json()["code"] == "unsafe_webhook_url"
    assert "url" in response.get_json()["errors"]


def test_a_partner_may_register_at_most_ten_endpoints(client, session):
    _, secret = make_partner(session)
    headers = api_key(secret)
    for _ in range(10):
        assert _register(client, headers).status_code == 201
    response = _register(client, headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "too_many_endpoints"


def test_an_admin_lists_every_partners_live_endpoints_but_registers_none(client, session):
    first, second = (api_key(make_partner(session)[1]) for _ in range(2))
    kept = _register(client, first).get_json()["id"]
    gone = _register(client, second).get_json()["id"]
    assert client.delete(f"/webhook-endpoints/{gone}", headers=second).status_code == 204
    also = _register(client, second).get_json()["id"]
    admin = bearer(session, make_user(session, role=Role.ADMIN))
    listed = client.get("/webhook-endpoints", headers=admin).get_json()
    assert sorted(e["id"] for e in listed) == sorted([kept, also])
    assert [e["id"] for e in client.get("/webhook-endpoints", headers=first).get_json()] == [kept]
    refused = _register(client, admin)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "forbidden"
