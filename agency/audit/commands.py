"""``flask --app wsgi verify-audit``: check the chain; exit non-zero naming the first bad entry."""

from __future__ import annotations

import click
from flask import Flask, current_app

from agency.audit.service import verify_chain
from agency.db import session_scope


def register_audit_commands(app: Flask) -> None:
    @app.cli.command("verify-audit")
    def verify_audit() -> None:
        """Verify the audit log's hash chain; exit 1 naming the first bad entry."""
        url = current_app.extensions["agency"].settings.database_url
        with session_scope(url) as session:
            report = verify_chain(session)
        if not report.ok:
            click.echo(
                f"audit chain broken at entry {report.first_bad_id} "
                f"(sequence {report.first_bad_sequence}): {report.problem}",
                err=True,
            )
            raise SystemExit(1)
        click.echo(f"audit chain intact: {report.checked} entries verified")
