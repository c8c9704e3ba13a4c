"""The embedded default (no REDIS_URL) throttles sign-in too, counting in process memory."""

from dataclasses import replace

import pytest

from tests.factories import PASSWORD, make_user


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(settings, redis_url=None, login_limit_per_account="2 per 15 minutes")


def test_without_redis_a_throttled_account_gets_429_in_the_json_format(app, client, session):
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    user = make_user(session)
    for _ in range(2):
        wrong = client.post("/auth/token", json={"email": user.email, "password": "not it, sorry"})
        assert wrong.status_code == 401
    refused = client.post("/auth/token", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert refused.get_json()["message"].startswith("Too many failed sign-in attempts")
