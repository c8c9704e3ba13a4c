"""Sign-in throttling on real Redis: per account and per client address, 429 with Retry-After,
and no argon2 verification spent on a refused attempt."""

from dataclasses import replace

import pytest
from argon2 import PasswordHasher
from redis import Redis

from agency.accounts import service as accounts
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.redis


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(
        settings, login_limit_per_account="3 per 15 minutes", login_limit_per_address="5 per hour"
    )


class CountingHasher(PasswordHasher):
    """argon2-cffi's hasher, counting verifications (the real check still runs)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def verify(self, hash, password):  # type: ignore[no-untyped-def]  # noqa: A002
        self.calls += 1
        return super().verify(hash, password)


@pytest.fixture
def argon2(monkeypatch):  # type: ignore[no-untyped-def]
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    return hasher


def _sign_in(client, email, password, address):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/token",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_account_is_throttled_after_repeated_wrong_passwords(client, session, argon2):
    user = make_user(session)
    for n in range(3):
        assert (
            _sign_in(client, user.email, f"wrong password {n}", "198.51.100.1").status_code == 401
        )
    assert argon2.calls == 3

    # From another address, and even with the right password: refused without argon2.
    refused = _sign_in(client, user.email.upper(), PASSWORD, "198.51.100.2")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["code"] == "too_many_requests" and body["status"] == 429
    assert body["request_id"]
    assert argon2.calls == 3

    # Another account is not affected.
    other = make_user(session)
    assert _sign_in(client, other.email, PASSWORD, "198.51.100.2").status_code == 201


def test_an_address_is_throttled_after_failures_across_many_accounts(client, session, argon2):
    for n in range(5):
        assert (
            _sign_in(client, f"guess{n}@example.test", "some password!", "203.0.113.9").status_code
            == 401
        )
    user = make_user(session)
    refused = _sign_in(client, user.email, PASSWORD, "203.0.113.9")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert argon2.calls == 5
    # The same user from elsewhere signs in.
    assert _sign_in(client, user.email, PASSWORD, "203.0.113.10").status_code == 201


def test_successful_sign_ins_are_not_counted(client, session):
    user = make_user(session)
    for _ in range(5):
        assert _sign_in(client, user.email, PASSWORD, "192.0.2.77").status_code == 201


def test_the_counters_are_in_redis_and_name_no_email_or_address(client, session, settings):
    user = make_user(session)
    assert _sign_in(client, user.email, "wrong password!", "192.0.2.200").status_code == 401
    redis = Redis.from_url(settings.redis_url)
    keys = [k.decode() for k in redis.scan_iter(f"*{settings.queue_name}:login-*")]
    assert any(":login-account:" in k for k in keys)
    assert any(":login-address:" in k for k in keys)
    assert not any(user.email in k or "192.0.2.200" in k for k in keys)
