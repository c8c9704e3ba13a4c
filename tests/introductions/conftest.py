"""Introduction events are sent as webhooks: the same receiver and settings as tests/webhooks."""

from tests.webhooks.fixtures import receiver, settings  # noqa: F401
