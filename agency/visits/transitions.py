"""The one table of which status may follow which, for visits and timesheets.

An illegal move is a 409 ``illegal_transition`` naming the current state (the same
shape as ``agency.introductions.workflow``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from agency.introductions.workflow import refusal
from agency.visits.models import TimesheetStatus, VisitStatus

T, V = TimesheetStatus, VisitStatus

MOVES: Mapping[type[enum.Enum], Mapping[enum.Enum, frozenset[enum.Enum]]] = {
    TimesheetStatus: {
        T.SUBMITTED: frozenset({T.APPROVED, T.QUERIED}),
        T.QUERIED: frozenset({T.SUBMITTED}),  # corrected and resubmitted
        T.APPROVED: frozenset(),
    },
    # A provider's correction sends a visit back to "logged" for the seeker's side to
    # look at again; the partner may change its mind until the visit is invoiced.
    VisitStatus: {
        V.LOGGED: frozenset({V.CONFIRMED, V.DISPUTED}),
        V.CONFIRMED: frozenset({V.DISPUTED, V.LOGGED}),
        V.DISPUTED: frozenset({V.CONFIRMED, V.LOGGED}),
    },
}


def move(obj: object, target: enum.Enum) -> enum.Enum:
    """Set ``obj.status`` to ``target`` if the table allows it; return the old status."""
    current = obj.status  # type: ignore[attr-defined]
    if target not in MOVES[type(current)][current]:
        label = getattr(obj, "__label__", type(obj).__name__.lower())
        raise refusal(
            f"The {label} is {current.value}; it cannot become {target.value}.",
            code="illegal_transition",
            current_status=current.value,
        )
    obj.status = target  # type: ignore[attr-defined]
    return current  # type: ignore[no-any-return]
