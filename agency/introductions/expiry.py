"""Expiring unanswered introductions: a job, and the command a scheduler runs every few minutes."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session

from agency.db import session_scope
from agency.introductions.service import expire_overdue
from agency.jobs.models import JobRecord
from agency.jobs.queue import job

EXPIRE_JOB = "expire_introductions"


@job(EXPIRE_JOB)
def expire_introductions(session: Session, record: JobRecord, *, settings: Any) -> dict[str, Any]:
    """Overdue awaiting_provider introductions become expired; the manager may introduce again."""
    return {"expired": expire_overdue(session)}


def register_introduction_commands(app: Flask) -> None:
    @app.cli.command("expire-introductions")
    def expire_introductions_command() -> None:
        """Expire introductions the provider did not answer in time (run by a scheduler)."""
        url = current_app.extensions["agency"].settings.database_url
        with session_scope(url) as session:
            count = expire_overdue(session)
        click.echo(f"expired {count} introductions")
