"""Queueing a care request's match run, by the job's name (the matcher lives elsewhere).

Seekers know only the name of the job that ranks providers for a request; the job
itself is registered by ``agency.introductions.match_jobs`` and the composition root
(``agency.bootstrap``) imports it, so this package never imports ``introductions``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.jobs.models import JobRecord
from agency.jobs.queue import jobs_for
from agency.seekers.models import CareRequest

MATCH_JOB = "match_care_request"


def enqueue_match(session: Session, care_request: CareRequest) -> JobRecord:
    """Queue a match run for ``care_request`` (dispatched after the caller commits)."""
    runner = jobs_for(session)
    record = runner.enqueue(
        session, MATCH_JOB, {"care_request_id": care_request.id}, scope=care_request.access_scope()
    )
    care_request.last_match_job_id = record.id
    return record
