"""Expiring unanswered introductions: a job, and the command a scheduler runs every few minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.db import session_scope, utcnow
from agency.introductions.events import introduction_event
from agency.introductions.models import Introduction, IntroductionStatus
from agency.introductions.service import transition
from agency.introductions.workflow import commit
from agency.jobs.models import JobRecord
from agency.jobs.queue import job

EXPIRE_JOB = "expire_introductions"


def expire_overdue(session: Session, now: dt.datetime | None = None) -> int:
    """Move every introduction the provider did not answer in time to expired (the system)."""
    now = now or utcnow()
    overdue = session.scalars(
        select(Introduction)
        .where(
            Introduction.status == IntroductionStatus.AWAITING_PROVIDER,
            Introduction.respond_by < now,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for introduction in overdue:
        transition(session, None, introduction, IntroductionStatus.EXPIRED, "introduction.expired")
        introduction_event(session, "introduction.expired", introduction)
    commit(session)
    return len(overdue)


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
