"""Jobs that belong to no domain: a ping that proves the queue works end to end."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from agency.jobs.models import JobRecord
from agency.jobs.queue import job, report_progress

MAX_DELAY_SECONDS = 60


@job("ping")
def ping(
    session: Session,
    record: JobRecord,
    *,
    settings: Any,
    message: str = "pong",
    delay_seconds: float = 0,
) -> dict[str, Any]:
    """Proves a job travels from the API through the queue to a worker and back.

    ``delay_seconds`` keeps the worker busy that long (checks of a worker from outside:
    what happens to a job whose work horse, or in-process worker, is killed).
    """
    report_progress(session, record, 50)
    time.sleep(max(0.0, min(float(delay_seconds), MAX_DELAY_SECONDS)))
    return {"message": message, "inline": settings.inline_jobs}
