"""Introductions' shared rules: which introductions are live, and how a write commits.

The status tables live beside the models (``INTRODUCTION_STATES``, ``ARRANGEMENT_STATES``,
``SUGGESTION_STATES`` in ``agency.introductions.models``, through ``agency.state_machine``).
A write that lost a race (the row's ``version`` moved on under it) is a 409
``version_conflict``: the client re-reads and decides again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agency.errors import Conflict
from agency.introductions.models import IntroductionStatus

I = IntroductionStatus  # noqa: E741
LIVE_INTRODUCTION = frozenset({I.AWAITING_PROVIDER, I.AWAITING_SEEKER, I.CONFIRMED})


def _version_conflict() -> Conflict:
    return Conflict(
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
