"""Who may see and do what: principals, scopes and the one permission check (no Flask).

Authorisation is object-level: each protected model answers ``access_scope()``
with the agency, council, partner client and provider that own it, and
:func:`authorize` compares that with the principal. Following ARCHITECTURE.md,
a principal that may not know an object exists gets 404; one that may know
(an auditor trying to write in its own council) gets 403.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import false, true
from sqlalchemy.orm import Session

from agency.errors import Forbidden, NotFound


class Kind(enum.StrEnum):
    PARTNER = "partner"
    PROVIDER = "provider"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a partner client or a signed-in user, with what binds them."""

    kind: Kind
    id: str
    agency_id: str | None = None
    council_id: str | None = None
    provider_id: str | None = None
    token_id: str | None = None

    @property
    def partner_client_id(self) -> str | None:
        return self.id if self.kind is Kind.PARTNER else None


@dataclass(frozen=True)
class Scope:
    """Who owns an object. Empty fields mean "nobody of that kind"."""

    council_ids: frozenset[str] = field(default_factory=frozenset)
    agency_ids: frozenset[str] = field(default_factory=frozenset)
    partner_client_id: str | None = None
    provider_id: str | None = None

    @classmethod
    def of(
        cls,
        *,
        council_ids: Iterable[str | None] = (),
        agency_ids: Iterable[str | None] = (),
        partner_client_id: str | None = None,
        provider_id: str | None = None,
    ) -> Scope:
        return cls(
            frozenset(c for c in council_ids if c),
            frozenset(a for a in agency_ids if a),
            partner_client_id,
            provider_id,
        )


class Action(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class Owned(Protocol):
    def access_scope(self) -> Scope: ...


def authorize(principal: Principal, action: Action, obj: Owned, scope: Scope | None = None) -> None:
    """Raise NotFound or Forbidden unless ``principal`` may do ``action`` to ``obj``.

    ``scope``: ``obj.access_scope()`` when the caller already has it (one check after
    another on the same object need not read its owners twice).
    """
    scope = obj.access_scope() if scope is None else scope
    if principal.kind is Kind.ADMIN:
        return
    if principal.kind is Kind.AUDITOR:
        if principal.council_id in scope.council_ids:
            if action is Action.READ:
                return
            raise Forbidden("Auditors have read-only access.", code="read_only")
        raise hidden(obj)
    allowed = (
        (principal.kind is Kind.MANAGER and principal.agency_id in scope.agency_ids)
        or (principal.kind is Kind.PARTNER and principal.id == scope.partner_client_id)
        or (principal.kind is Kind.PROVIDER and principal.provider_id == scope.provider_id)
    )
    if not allowed:
        raise hidden(obj)


def not_found(model: Any, object_id: str) -> NotFound:
    """The one 404 for an object that is absent or that the caller may not know exists."""
    return NotFound(
        f"No {getattr(model, '__label__', model.__name__.lower())} with id {object_id}."
    )


def hidden(obj: Any) -> NotFound:
    """A 404 word for word the same as :func:`not_found` for a missing row of that kind."""
    return not_found(type(obj), getattr(obj, "id", ""))


# Which column of a listed model holds the owner a principal of each kind is bound to.
_OWNER_COLUMN = {
    Kind.MANAGER: ("agency_id", "agency_id"),
    Kind.AUDITOR: ("council_id", "council_id"),
    Kind.PARTNER: ("partner_client_id", "id"),
    Kind.PROVIDER: ("provider_id", "provider_id"),
}


def owner_clause(model: Any, principal: Principal) -> Any:
    """The rule for a model that carries its owners' columns (the default of :func:`visible_to`).

    A manager sees its agency's rows, an auditor its council's, a partner its own, a
    provider its own, an admin all; a model without the owner column shows nothing.
    """
    if principal.kind is Kind.ADMIN:
        return true()
    column, attribute = _OWNER_COLUMN[principal.kind]
    if not hasattr(model, column):
        return false()
    return getattr(model, column) == getattr(principal, attribute)


def visible_to(model: Any, principal: Principal) -> Any:
    """The list twin of :func:`authorize`: a WHERE clause keeping the rows ``principal`` may see.

    Every list of a protected model filters with this one clause. A model whose owner is
    reached through another table (an invoice's partner through its arrangement, a council
    through a manager's agency) says so in a ``visibility(principal)`` classmethod beside
    its ``access_scope()``; every other model is filtered on its owner columns
    (:func:`owner_clause`). An admin sees everything.
    """
    if principal.kind is Kind.ADMIN:
        return true()
    hook = getattr(model, "visibility", None)
    if hook is not None:
        return hook(principal)
    return owner_clause(model, principal)


M = TypeVar("M")


def allows(principal: Principal, action: Action, obj: Owned) -> bool:
    """Whether :func:`authorize` would let ``principal`` do ``action`` to ``obj`` (no raising)."""
    try:
        authorize(principal, action, obj)
    except (Forbidden, NotFound):
        return False
    return True


def load(
    session: Session,
    principal: Principal,
    model: type[M],
    object_id: str,
    action: Action,
    *,
    for_update: bool = False,
) -> M:
    """Fetch an object by id and authorise it in one step (404 when absent or hidden).

    ``for_update``: lock the row first (SELECT ... FOR UPDATE on PostgreSQL, read fresh
    from the database), so a second writer waits and then sees the first one's change.
    """
    obj = session.get(
        model, object_id, with_for_update=for_update or None, populate_existing=for_update
    )
    if obj is None:
        raise not_found(model, object_id)
    authorize(principal, action, obj)  # type: ignore[arg-type]
    return obj


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
