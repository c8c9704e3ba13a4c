"""The one definition of which status may follow which, used by every transition.

(Care requests have their own machine in ``agency.seekers.lifecycle``.)

An illegal move is a 409 ``illegal_transition`` naming the current state. A write
that lost a race (the row's ``version`` moved on under it) is a 409
``version_conflict``: the client re-reads and decides again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agency.errors import Conflict
from agency.introductions.models import ArrangementStatus, IntroductionStatus, SuggestionStatus

I, A, S = IntroductionStatus, ArrangementStatus, SuggestionStatus  # noqa: E741

MOVES: Mapping[type[enum.Enum], Mapping[enum.Enum, frozenset[enum.Enum]]] = {
    IntroductionStatus: {
        I.AWAITING_PROVIDER: frozenset(
            {I.AWAITING_SEEKER, I.PROVIDER_DECLINED, I.EXPIRED, I.WITHDRAWN}
        ),
        I.AWAITING_SEEKER: frozenset({I.CONFIRMED, I.SEEKER_DECLINED, I.WITHDRAWN}),
        I.CONFIRMED: frozenset(),
        I.PROVIDER_DECLINED: frozenset(),
        I.SEEKER_DECLINED: frozenset(),
        I.EXPIRED: frozenset(),
        I.WITHDRAWN: frozenset(),
    },
    ArrangementStatus: {
        A.ACTIVE: frozenset({A.PAUSED, A.ENDED}),
        A.PAUSED: frozenset({A.ACTIVE, A.ENDED}),
        A.ENDED: frozenset(),
    },
    SuggestionStatus: {
        S.ACTIVE: frozenset({S.INTRODUCED, S.REJECTED, S.SUPERSEDED}),
        S.SUPERSEDED: frozenset(),
        S.REJECTED: frozenset(),
        S.INTRODUCED: frozenset(),
    },
}

LIVE_INTRODUCTION = frozenset({I.AWAITING_PROVIDER, I.AWAITING_SEEKER, I.CONFIRMED})


def refusal(message: str, *, code: str, **extra: object) -> Conflict:
    """A 409 with its own stable ``code`` (and extra fields such as ``current_status``)."""
    error = Conflict(message, **extra)
    error.code = code
    return error


def check_move(label: str, current: enum.Enum, target: enum.Enum) -> None:
    """Raise 409 illegal_transition unless ``current -> target`` is an allowed move."""
    if target not in MOVES[type(current)][current]:
        raise refusal(
            f"The {label} is {current.value}; it cannot become {target.value}.",
            code="illegal_transition",
            current_status=current.value,
        )


def move(obj: object, target: enum.Enum) -> enum.Enum:
    """Set ``obj.status`` to ``target`` if the state machine allows it; return the old status."""
    current = obj.status  # type: ignore[attr-defined]
    check_move(getattr(obj, "__label__", type(obj).__name__.lower()), current, target)
    obj.status = target  # type: ignore[attr-defined]
    return current  # type: ignore[no-any-return]


def _version_conflict() -> Conflict:
    return refusal(
        "Someone changed this at the same time; read it again and retry.",
        code="version_conflict",
    )


def commit(session: Session) -> None:
    """Commit; a lost race (stale version, duplicate row) becomes 409 version_conflict."""
    try:
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise _version_conflict() from None


P = ParamSpec("P")
T = TypeVar("T")


def guarded(function: Callable[P, T]) -> Callable[P, T]:
    """A lost race anywhere in a write (an autoflush mid-way too) is 409 version_conflict."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except (StaleDataError, IntegrityError):
            session = args[0]
            assert isinstance(session, Session)
            session.rollback()
            raise _version_conflict() from None

    return wrapper
