"""Jobs that belong to no domain: a ping used by the smoke test and `make run` checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agency.jobs.models import JobRecord
from agency.jobs.queue import job, report_progress


@job("ping")
def ping(
    session: Session, record: JobRecord, *, settings: Any, message: str = "pong"
) -> dict[str, Any]:
    """Proves a job travels from the API through the queue to a worker and back."""
    report_progress(session, record, 50)
    return {"message": message, "inline": settings.inline_jobs}
