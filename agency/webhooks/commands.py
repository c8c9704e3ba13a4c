"""``flask --app wsgi deliver-due-webhooks``: the sweeper a scheduler runs every minute."""

from __future__ import annotations

import click
from flask import Flask, current_app

from agency.db import session_scope
from agency.webhooks.delivery import deliver_due


def register_webhook_commands(app: Flask) -> None:
    @app.cli.command("deliver-due-webhooks")
    def deliver_due_webhooks() -> None:
        """Send every webhook delivery that is due (first tries lost with a worker, and retries)."""

        settings = current_app.extensions["agency"].settings
        with session_scope(settings.database_url) as session:
            count = deliver_due(session, settings)
        click.echo(f"attempted {count} webhook deliveries")
