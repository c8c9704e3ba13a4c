"""Queueing a care request's match run, by the job's name (the matcher lives elsewhere).

Seekers know only the name of the job that ranks providers for a request; the job
itself is registered by ``agency.introductions.match_jobs`` and the composition root
(``agency.bootstrap``) imports it, so this package never imports ``introductions``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.ids import new_id
from agency.jobs.models import JobRecord
from agency.jobs.queue import jobs_for
from agency.seekers.models import CareRequest

MATCH_JOB = "match_care_request"


def enqueue_match(
    session: Session, care_request: CareRequest, *, new_request: bool = False
) -> JobRecord:
    """Queue a match run for ``care_request`` (dispatched after the caller commits).

    ``new_request``: the request is not in the database yet; its row is INSERTed with the
    job's, in one round trip.
    """
    job_id = new_id("job")
    care_request.last_match_job_id = job_id
    return jobs_for(session).enqueue(
        session,
        MATCH_JOB,
        {"care_request_id": care_request.id},
        scope=care_request.access_scope(),
        job_id=job_id,
        with_new=(care_request,) if new_request else (),
    )
