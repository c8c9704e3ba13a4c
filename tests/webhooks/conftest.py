"""Webhook tests share their receiver and settings with tests/introductions."""

from tests.webhooks.fixtures import receiver, settings  # noqa: F401
