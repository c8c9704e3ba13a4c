"""One helper for every status table: which status may follow which, and the one 409 a wrong
move gets.

Each domain writes its table beside its model, as a :class:`StateMachine` over the model's
status enum (``INTRODUCTION_STATES`` under ``IntroductionStatus``, ``VISIT_STATES`` under
``VisitStatus``...), and every change of that status goes through it:

- ``STATES.move(obj, target)`` sets ``obj.status`` when the table allows it and returns the
  old status;
- a table may name its moves (a listing is ``approve``d, ``reinstate``d...), in which case
  ``STATES.target(obj, "approve")`` is the status that move leads to;
- a move the table does not allow raises :class:`IllegalTransition`: 409
  ``illegal_transition`` with ``current_status``, and, for a named move, the ``allowed``
  moves from there. The message names the object by its model's ``__label__``.

Side effects of a move (timestamps, audit, re-matching) stay in the domain's service.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from agency.errors import Conflict

S = TypeVar("S", bound=enum.Enum)


class IllegalTransition(Conflict):
    """A move the object's state machine does not allow from its current status."""

    code = "illegal_transition"
    message = "The object is not in a state that allows this."


def label_of(obj: object) -> str:
    """How a refusal names the object: its model's ``__label__`` ("care request")."""
    return str(getattr(obj, "__label__", type(obj).__name__.lower()))


class StateMachine(Generic[S]):
    """The allowed moves between the members of one status enum.

    ``table`` maps every status to the statuses that may follow it (a final status maps to
    nothing), or to ``{move name: next status}`` when the moves have names of their own.
    """

    def __init__(self, table: Mapping[S, Iterable[S]] | Mapping[S, Mapping[str, S]]) -> None:
        self._named: dict[S, dict[str, S]] = {}
        self.named = False
        for current, moves in table.items():
            if isinstance(moves, Mapping):
                self.named = True
                self._named[current] = dict(moves)
            else:
                self._named[current] = {str(target.value): target for target in moves}
        statuses = set(self._named)
        members = set(type(next(iter(statuses))))
        every_target = {t for moves in self._named.values() for t in moves.values()}
        if statuses != members or not every_target <= members:
            raise ValueError("a state machine's table names every status of its enum once")

    @property
    def statuses(self) -> frozenset[S]:
        return frozenset(self._named)

    def targets(self, current: S) -> frozenset[S]:
        """The statuses that may follow ``current``."""
        return frozenset(self._named[current].values())

    def allows(self, current: S, target: S) -> bool:
        return target in self._named[current].values()

    def moves(self, current: S) -> list[str]:
        """The names of the moves possible from ``current``, sorted."""
        return sorted(self._named[current])

    def can_reach(self, target: S) -> frozenset[S]:
        """The statuses from which one move reaches ``target``."""
        return frozenset(s for s, moves in self._named.items() if target in moves.values())

    def move(self, obj: Any, target: S) -> S:
        """Set ``obj.status`` to ``target`` if the table allows it; return the old status."""
        current: S = obj.status
        if not self.allows(current, target):
            raise self.illegal(obj, target)
        obj.status = target
        return current

    def target(self, obj: Any, move: str) -> S:
        """The status the named ``move`` leads ``obj`` to from its current status."""
        target = self._named[obj.status].get(move)
        if target is None:
            raise self.illegal(obj, move)
        return target

    def illegal(self, obj: Any, attempted: S | str) -> IllegalTransition:
        """The refusal of ``attempted`` (a status, or a named move) from ``obj``'s status."""
        current: S = obj.status
        if isinstance(attempted, enum.Enum):
            return IllegalTransition(
                f"The {label_of(obj)} is {current.value}; it cannot become {attempted.value}.",
                current_status=current.value,
            )
        allowed = self.moves(current)
        return IllegalTransition(
            f"The {label_of(obj)} is {current.value}; '{attempted}' is not possible from that "
            "state" + (f" (possible: {', '.join(allowed)})." if allowed else "."),
            current_status=current.value,
            allowed=allowed,
        )
