"""How a care request's status moves: through ``REQUEST_STATES`` (beside the model),
stamping when it was matched or closed.

Other domains (the matcher sets matching, introductions set matched) call
:func:`transition_request` inside their own transaction; it never commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.seekers.models import REQUEST_STATES, CareRequest, RequestStatus

# Requests still looking for (or receiving) support: erasure withdraws these.
LIVE_STATUSES = REQUEST_STATES.can_reach(RequestStatus.WITHDRAWN)

# A partner may still change what is asked for only before a match is made.
EDITABLE_STATUSES = frozenset({RequestStatus.OPEN, RequestStatus.MATCHING})


def transition_request(
    session: Session,
    care_request: CareRequest,
    to_status: RequestStatus,
    reason: str | None = None,
) -> CareRequest:
    """Move ``care_request`` to ``to_status`` or raise 409 ``illegal_transition`` (no commit)."""
    to_status = RequestStatus(to_status)
    REQUEST_STATES.move(care_request, to_status)
    care_request.status_reason = reason
    now = utcnow()
    if to_status is RequestStatus.MATCHED:
        care_request.matched_at = now
    if to_status is RequestStatus.OPEN:
        care_request.matched_at = None
    if to_status in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN):
        care_request.closed_at = now
    session.add(care_request)
    return care_request
