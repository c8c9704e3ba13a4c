"""Continuity tests send webhooks: the receiver and settings of tests/webhooks."""

from tests.webhooks.fixtures import receiver, settings  # noqa: F401
