"""Fixtures for tests that send webhooks: a receiver on 127.0.0.1, so private URLs are allowed.

Jobs run inline (at commit) unless a test is marked ``redis``: those run a real RQ
worker (the journey test), the others assert on what was sent right away.
"""

from dataclasses import replace

import pytest


@pytest.fixture
def settings(settings, request):  # type: ignore[no-untyped-def]
    redis_url = settings.redis_url if "redis" in request.keywords else None
    return replace(settings, webhook_allow_private=True, redis_url=redis_url)


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    from tests.webhooks.webhook_receiver import Receiver

    running = Receiver().start()
    yield running
    running.stop()
