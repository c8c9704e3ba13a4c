"""Care seekers: registration with consent, changes, consent versions and erasure.

A seeker belongs to the partner client that registered them; only that partner
writes. Managers read a seeker who has a request in their agency. Auditors are
refused here: they see seekers only pseudonymised (the ISF register).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, String, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from agency.access import Action, Kind, Principal, Scope, authorize, load, not_found, visible_to
from agency.db import utcnow
from agency.directory import places
from agency.directory.models import Agency, Neighbourhood
from agency.errors import ReadOnly
from agency.ids import new_id
from agency.seekers.exceptions import PartnerOnly, Pseudonymised, ReferenceTaken, SeekerErased
from agency.seekers.models import CareSeeker, Consent, ContactPreference
from agency.unit_of_work import unit_of_work

M = TypeVar("M")

# A care request may only be made under consent to this purpose.
REQUEST_PURPOSE = "introductions"


def current_consent(seeker: CareSeeker) -> Consent | None:
    """The latest recorded consent not withdrawn: consents are versions, the newest wins."""
    live = [c for c in seeker.consents if c.withdrawn_at is None]
    return max(live, key=lambda c: (c.recorded_at, c.given_at), default=None)


def require_partner(principal: Principal, what: str = "care seeker") -> None:
    """Only the partner client that owns an object writes it (admins may act for it)."""
    if principal.kind not in (Kind.PARTNER, Kind.ADMIN):
        raise PartnerOnly(f"Only the partner client that registered this {what} may change it.")


def require_not_erased(seeker: CareSeeker) -> None:
    if seeker.erased_at is not None:
        raise SeekerErased()


def load_for_write(
    session: Session,
    principal: Principal,
    model: type[M],
    object_id: str,
    options: Sequence[Any] = (),
    scope_of: Callable[[M], Scope] | None = None,
) -> M:
    """``load(..., Action.WRITE)``, refusing an auditor who may read the object with 403.

    An auditor outside the owner's council still gets 404 (it may not know the object).
    The object's owners are read once for both checks (a seeker's are a query).
    ``options``: loader options for the object's query (what the caller reads next).
    ``scope_of``: the owners to check, when the caller knows a cheaper way to them than
    ``access_scope()`` for this principal (it must give the same answer).
    """
    obj = session.get(model, object_id, options=options)
    if obj is None:
        raise not_found(model, object_id)
    scope = (scope_of or _access_scope)(obj)
    authorize(principal, Action.READ, obj, scope)  # type: ignore[arg-type]
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    authorize(principal, Action.WRITE, obj, scope)  # type: ignore[arg-type]
    return obj


def _access_scope(obj: Any) -> Scope:
    return obj.access_scope()  # type: ignore[no-any-return]


def _partner_scope(seeker: CareSeeker) -> Scope:
    return Scope.of(partner_client_id=seeker.partner_client_id)


def writable_seeker(
    session: Session, principal: Principal, seeker_id: str, *, with_consents: bool = False
) -> CareSeeker:
    """A seeker the principal (its partner) may change: 404 hidden, 403 other kinds, 409 erased.

    ``with_consents``: read the seeker's consents in the same query (for a consent check).
    """
    options = (joinedload(CareSeeker.consents),) if with_consents else ()
    # A partner is authorised by the seeker's own partner column alone: the query for the
    # agencies and councils of the seeker's requests (what managers and auditors are
    # checked against) would not change the answer, so a partner's write skips it.
    scope_of = _partner_scope if principal.kind is Kind.PARTNER else None
    seeker = load_for_write(session, principal, CareSeeker, seeker_id, options, scope_of)
    require_partner(principal)
    require_not_erased(seeker)
    return seeker


@dataclass(frozen=True)
class RequestingSeeker:
    """What a new care request reads of its seeker (:func:`requesting_seeker`)."""

    id: str
    partner_client_id: str
    outcode: str | None
    sector: str | None
    consent_purposes: list[str] | None  # the current consent's (None: no consent in force)
    # places.ROUTE_COLUMNS of the outcode the request is routed by, read with the seeker
    # (None: not read, places.locate reads them).
    route: tuple[str | None, ...] | None = None


# The seeker's row and its current consent's purposes (what current_consent picks: the
# newest by recorded_at, then given_at, not withdrawn), in one statement.
_CURRENT_PURPOSES = (
    select(Consent.purposes)
    .where(Consent.seeker_id == CareSeeker.id, Consent.withdrawn_at.is_(None))
    .order_by(Consent.recorded_at.desc(), Consent.given_at.desc())
    .limit(1)
    .correlate(CareSeeker)
    .scalar_subquery()
)
# With the routing of the request's outcode (the body's, else the seeker's) in the same
# round trip: the neighbourhood that covers it and its agency's council.
_REQUESTING_SEEKER = (
    select(
        CareSeeker.partner_client_id,
        CareSeeker.outcode,
        CareSeeker.sector,
        CareSeeker.erased_at,
        _CURRENT_PURPOSES,
        *places.ROUTE_COLUMNS,
    )
    .select_from(CareSeeker)
    .outerjoin(
        Neighbourhood,
        Neighbourhood.id
        == places.routing_neighbourhood(
            func.coalesce(bindparam("outcode", type_=String()), CareSeeker.outcode)
        ),
    )
    .outerjoin(Agency, Agency.id == Neighbourhood.agency_id)
    .where(CareSeeker.id == bindparam("seeker_id"))
)


def requesting_seeker(
    session: Session,
    principal: Principal,
    seeker_id: str,
    outcode: str | None = None,
    read: tuple[Any, ...] | None = None,
) -> RequestingSeeker:
    """:func:`writable_seeker` with its current consent, narrowed to what a request needs.

    The same answers: 404 for a seeker that is absent or another partner's, 403 for
    principals that are not partners, 409 ``seeker_erased``. A partner's (every request
    a front end makes) is one Core statement, no ORM objects: it is authorised by the
    seeker's own partner column, and the routing of ``outcode`` (the seeker's own when
    None) comes with it (``route``). ``read``: that statement's row for the seeker's own
    outcode, already read (:func:`requesting_seeker_read`, with the API key), checked here
    as its own would be. Other principals go through :func:`writable_seeker`.
    """
    if principal.kind is not Kind.PARTNER:
        seeker = writable_seeker(session, principal, seeker_id, with_consents=True)
        consent = current_consent(seeker)
        return RequestingSeeker(
            seeker.id,
            seeker.partner_client_id,
            seeker.outcode,
            seeker.sector,
            consent.purposes if consent is not None else None,
        )
    row: Sequence[Any] | None
    if read is not None and outcode is None:
        row = read
    else:
        row = (
            session.connection()
            .execute(_REQUESTING_SEEKER, {"seeker_id": seeker_id, "outcode": outcode})
            .first()
        )
    if row is None or row[0] != principal.id:
        raise not_found(CareSeeker, seeker_id)
    partner_client_id, own_outcode, sector, erased_at, purposes, *route = row
    if erased_at is not None:
        raise SeekerErased()
    return RequestingSeeker(
        seeker_id, partner_client_id, own_outcode, sector, purposes, tuple(route)
    )


def requesting_seeker_read(seeker_id: str) -> tuple[Select[Any], dict[str, Any]]:
    """:func:`requesting_seeker`'s statement and parameters for the seeker's own outcode,
    to be read in another statement's round trip (the caller's API key's)."""
    return _REQUESTING_SEEKER, {"seeker_id": seeker_id, "outcode": None}


def register_seeker(
    session: Session,
    principal: Principal,
    *,
    reference: str,
    display_name: str,
    postcode: str,
    consent: dict[str, Any],
    contact_preference: ContactPreference | None = None,
) -> CareSeeker:
    """Register a person for the calling partner, with their consent, or store nothing."""
    if principal.kind is not Kind.PARTNER:
        raise PartnerOnly("Care seekers are registered by partner clients.")
    outcode, sector, _lat, _lon = places.parse(postcode)
    _check_reference_free(session, principal.id, reference)
    seeker = CareSeeker(
        id=new_id("skr"),
        partner_client_id=principal.id,
        reference=reference,
        display_name=display_name,
        contact_preference=contact_preference,
        outcode=outcode,
        sector=sector,
    )
    seeker.consents = [_consent(seeker.id, **consent)]
    with unit_of_work(session, integrity_error=lambda: _reference_taken(reference)) as uow:
        session.add(seeker)
        uow.commit()
    return seeker


def seekers_of_partner(principal: Principal, reference: str | None = None) -> Select[Any]:
    """The partner's own seekers, oldest first (a query for page_of)."""
    stmt = select(CareSeeker).where(visible_to(CareSeeker, principal))
    if reference is not None:
        stmt = stmt.where(CareSeeker.reference == reference)
    return stmt.order_by(CareSeeker.created_at, CareSeeker.id)


def get_seeker(session: Session, principal: Principal, seeker_id: str) -> CareSeeker:
    """Read a seeker: its partner, or a manager of an agency holding one of its requests."""
    seeker = load(session, principal, CareSeeker, seeker_id, Action.READ)
    if principal.kind is Kind.AUDITOR:
        raise Pseudonymised()
    return seeker


def change_seeker(
    session: Session, principal: Principal, seeker_id: str, changes: dict[str, Any]
) -> CareSeeker:
    """Change a seeker's name, contact preference or postcode (kept as outcode and sector)."""
    seeker = writable_seeker(session, principal, seeker_id)
    with unit_of_work(session) as uow:
        if "postcode" in changes:
            seeker.outcode, seeker.sector, _lat, _lon = places.parse(changes["postcode"])
        for name in ("display_name", "contact_preference"):
            if name in changes:
                setattr(seeker, name, changes[name])
        uow.commit()
    return seeker


def record_consent(
    session: Session,
    principal: Principal,
    seeker_id: str,
    *,
    terms_version: str,
    purposes: list[str],
    given_at: dt.datetime,
) -> Consent:
    """Add a new version of the seeker's consent (earlier versions stay as they were)."""
    seeker = writable_seeker(session, principal, seeker_id)
    consent = _consent(seeker.id, terms_version=terms_version, purposes=purposes, given_at=given_at)
    with unit_of_work(session) as uow:
        seeker.consents.append(consent)
        uow.commit()
    return consent


def withdraw_consent(
    session: Session, principal: Principal, seeker_id: str, withdrawn_at: dt.datetime | None = None
) -> CareSeeker:
    """Withdraw every consent: no new care request can be made until consent is given again."""
    seeker = writable_seeker(session, principal, seeker_id)
    with unit_of_work(session) as uow:
        _withdraw_all(seeker, withdrawn_at or utcnow())
        uow.commit()
    return seeker


def erase_seeker(session: Session, principal: Principal, seeker_id: str) -> CareSeeker:
    """Erase a person's data on their request (UK GDPR art. 17), keeping ids money points to.

    Every text column that can hold something about them is scrubbed (``agency.privacy``
    classifies them all); live requests, pending introductions and active arrangements
    end with reason "erased", so no visit can be logged for them any more; consents are
    marked withdrawn but kept as the record of what was agreed. Ids, outcodes and money
    records stay. One audit entry records the erasure. See ``agency.erasure``.
    """
    from agency.erasure import erase  # it reaches into domains that depend on this one

    seeker = writable_seeker(session, principal, seeker_id)
    with unit_of_work(session) as uow:
        erase(session, principal, seeker)
        uow.commit()
    return seeker


def _withdraw_all(seeker: CareSeeker, when: dt.datetime) -> None:
    for consent in seeker.consents:
        if consent.withdrawn_at is None:
            consent.withdrawn_at = when


def _consent(
    seeker_id: str, *, terms_version: str, purposes: list[str], given_at: dt.datetime
) -> Consent:
    return Consent(
        id=new_id("cns"),
        seeker_id=seeker_id,
        terms_version=terms_version,
        purposes=list(purposes),
        given_at=given_at,
        recorded_at=utcnow(),
    )


def _check_reference_free(session: Session, partner_client_id: str, reference: str) -> None:
    taken = session.scalar(
        select(CareSeeker.id).where(
            CareSeeker.partner_client_id == partner_client_id, CareSeeker.reference == reference
        )
    )
    if taken:
        raise _reference_taken(reference)


def _reference_taken(reference: str) -> ReferenceTaken:
    return ReferenceTaken(f"You already registered a care seeker with reference {reference!r}.")
