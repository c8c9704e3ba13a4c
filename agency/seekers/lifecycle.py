"""The one place that says how a care request's status may move.

    open -> matching -> matched -> closed
    open | matching | matched -> withdrawn
    matched -> open   (the arrangement ended or fell through: look again)

Other domains (the matcher sets matching, introductions set matched) call
:func:`transition_request` inside their own transaction; it never commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.seekers.exceptions import IllegalTransition
from agency.seekers.models import CareRequest, RequestStatus

ALLOWED_MOVES: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.OPEN: frozenset({RequestStatus.MATCHING, RequestStatus.WITHDRAWN}),
    RequestStatus.MATCHING: frozenset({RequestStatus.MATCHED, RequestStatus.WITHDRAWN}),
    RequestStatus.MATCHED: frozenset(
        {RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.OPEN}
    ),
    RequestStatus.CLOSED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}

# Requests still looking for (or receiving) support: erasure withdraws these.
LIVE_STATUSES = frozenset(
    s for s, moves in ALLOWED_MOVES.items() if RequestStatus.WITHDRAWN in moves
)

# A partner may still change what is asked for only before a match is made.
EDITABLE_STATUSES = frozenset({RequestStatus.OPEN, RequestStatus.MATCHING})


def can_move(from_status: RequestStatus, to_status: RequestStatus) -> bool:
    return to_status in ALLOWED_MOVES[from_status]


def transition_request(
    session: Session,
    care_request: CareRequest,
    to_status: RequestStatus,
    reason: str | None = None,
) -> CareRequest:
    """Move ``care_request`` to ``to_status`` or raise 409 ``illegal_transition`` (no commit)."""
    to_status = RequestStatus(to_status)
    current = care_request.status
    if not can_move(current, to_status):
        raise IllegalTransition(
            f"A care request that is {current.value} cannot become {to_status.value}.",
            current_status=current.value,
        )
    care_request.status = to_status
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
