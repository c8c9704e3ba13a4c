"""The one place this domain changes a care request's status, through the seekers domain.

``agency.seekers.lifecycle.transition_request`` owns the request's state machine.
A confirmation may come while the request is still ``open`` (no match run moved it
to ``matching``): it passes through ``matching`` on the way to ``matched``. Reopening a
matched request after its arrangement ended is that machine's ``matched -> open``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.access import Principal
from agency.audit.service import record
from agency.seekers.lifecycle import transition_request
from agency.seekers.models import CareRequest, RequestStatus


def set_request_status(
    session: Session,
    principal: Principal | None,
    care_request: CareRequest,
    to_status: RequestStatus,
    reason: str | None,
) -> None:
    before = care_request.status
    if to_status is RequestStatus.MATCHED and before is RequestStatus.OPEN:
        transition_request(session, care_request, RequestStatus.MATCHING, reason)
    transition_request(session, care_request, to_status, reason)
    record(
        session,
        principal,
        "care_request.status_changed",
        care_request,
        {"status": before.value},
        {"status": to_status.value, "reason": reason},
    )
