"""Fixtures: the local Stripe stand-in, and an app whose gateway is Stripe pointed at it.

Import them into a test module: ``from tests.isf.stripe_fixtures import standin, stripe_app``.
"""

from dataclasses import replace

import pytest

from agency import create_app
from standin.stripe_server import StripeStandin

API_KEY = "sk_test_standin"


@pytest.fixture
def standin():
    with StripeStandin(webhook_secret="whsec_test_" + "a" * 24) as server:
        yield server


@pytest.fixture
def stripe_settings(settings, standin, monkeypatch):
    # RQ workers read the environment, as in production.
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", standin.url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", standin.webhook_secret)
    return replace(
        settings,
        stripe_api_key=API_KEY,
        stripe_api_base=standin.url,
        stripe_webhook_secret=standin.webhook_secret,
    )


@pytest.fixture
def stripe_app(app, stripe_settings):
    # ``app`` first: its teardown empties the tables this app writes.
    application = create_app(stripe_settings)
    application.testing = False
    return application


@pytest.fixture
def stripe_client(stripe_app):
    return stripe_app.test_client()
