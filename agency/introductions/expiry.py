"""Expiring unanswered introductions: the job a scheduler runs every few minutes.

The same work as a command (``flask expire-introductions``) is in :mod:`agency.cli`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.introductions.events import introduction_event
from agency.introductions.models import Introduction, IntroductionStatus
from agency.introductions.service import transition
from agency.jobs.models import JobRecord
from agency.jobs.queue import job
from agency.unit_of_work import unit_of_work

EXPIRE_JOB = "expire_introductions"


def expire_overdue(session: Session, now: dt.datetime | None = None) -> int:
    """Move every introduction the provider did not answer in time to expired (the system)."""
    now = now or utcnow()
    with unit_of_work(session) as uow:
        overdue = session.scalars(
            select(Introduction)
            .where(
                Introduction.status == IntroductionStatus.AWAITING_PROVIDER,
                Introduction.respond_by < now,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for introduction in overdue:
            expired = IntroductionStatus.EXPIRED
            transition(session, None, introduction, expired, "introduction.expired")
            introduction_event(session, "introduction.expired", introduction)
        uow.commit()
    return len(overdue)


@job(EXPIRE_JOB)
def expire_introductions(session: Session, record: JobRecord, *, settings: Any) -> dict[str, Any]:
    """Overdue awaiting_provider introductions become expired; the manager may introduce again."""
    return {"expired": expire_overdue(session)}
