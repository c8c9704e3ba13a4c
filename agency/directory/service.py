"""Councils, agencies and the service taxonomy: who may read and change them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

import matching
from agency.access import Action, Kind, Principal, load, visible_to
from agency.directory.models import Agency, Council, Neighbourhood, ServiceType
from agency.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.unit_of_work import unit_of_work

# Fields an agency's own manager may change; everything else about an agency is the admin's.
MANAGER_EDITABLE = frozenset({"matching_weights"})
WEIGHT_NAMES = frozenset(f.name for f in dataclasses.fields(matching.Weights))


class SlugTaken(Conflict):
    code = "slug_taken"


class AdminOnlyFields(Forbidden):
    code = "admin_only_fields"


def slug_taken(message: str) -> Callable[[], SlugTaken]:
    """A unit of work's integrity refusal: a slug a concurrent request took since we checked."""
    return lambda: SlugTaken(message)


def create_council(session: Session, *, name: str, slug: str) -> Council:
    if session.scalar(select(Council.id).where(Council.slug == slug)):
        raise SlugTaken(f"A council with slug {slug} exists.")
    council = Council(id=new_id("cnc"), name=name, slug=slug)
    with unit_of_work(session) as uow:
        session.add(council)
        uow.commit()
    return council


def create_agency(
    session: Session,
    *,
    council_id: str,
    name: str,
    slug: str,
    **details: Any,
) -> Agency:
    """Create an agency; ``details`` are optional columns (base_outcode, locality, size...)."""
    if session.get(Council, council_id) is None:
        raise NotFound(f"No council with id {council_id}.")
    if session.scalar(select(Agency.id).where(Agency.slug == slug)):
        raise SlugTaken(f"An agency with slug {slug} exists.")
    agency = Agency(id=new_id("agy"), council_id=council_id, name=name, slug=slug, **details)
    unique = slug_taken(f"An agency with slug {slug} exists.")
    with unit_of_work(session, integrity_error=unique) as uow:
        session.add(agency)
        uow.commit()
    return agency


def councils_query(principal: Principal) -> Select[Any]:
    """Councils the principal may read: all for admins, its own for auditors and managers."""
    if principal.kind not in (Kind.ADMIN, Kind.AUDITOR, Kind.MANAGER):
        raise Forbidden("Councils are for managers, auditors and admins.")
    return select(Council).where(visible_to(Council, principal)).order_by(Council.name, Council.id)


def agencies_query(council_id: str | None = None) -> Select[Any]:
    """Every agency, with its neighbourhoods: public facts any principal may read."""
    stmt = (
        select(Agency)
        .options(selectinload(Agency.neighbourhoods).selectinload(Neighbourhood.outcodes))
        .order_by(Agency.name, Agency.id)
    )
    if council_id is not None:
        stmt = stmt.where(Agency.council_id == council_id)
    return stmt


def get_agency(session: Session, agency_id: str) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"No agency with id {agency_id}.")
    return agency


def register_agency(session: Session, principal: Principal, fields: dict[str, Any]) -> Agency:
    """An admin creates an agency in an existing council (422 naming council_id otherwise)."""
    if principal.kind is not Kind.ADMIN:
        raise Forbidden("Only an admin creates agencies.")
    fields = dict(fields)
    council_id = fields.pop("council_id")
    if session.get(Council, council_id) is None:
        raise InvalidInput(errors={"council_id": [f"No council with id {council_id}."]})
    if "base_outcode" in fields and fields["base_outcode"] is not None:
        fields["base_outcode"] = known_outcode(fields["base_outcode"], "base_outcode")
    return create_agency(session, council_id=council_id, **fields)


def update_agency(
    session: Session, principal: Principal, agency_id: str, changes: dict[str, Any]
) -> Agency:
    """Admins change anything; the agency's own manager only its matching weights."""
    agency = load(session, principal, Agency, agency_id, Action.WRITE)
    if principal.kind is not Kind.ADMIN and set(changes) - MANAGER_EDITABLE:
        refused = sorted(set(changes) - MANAGER_EDITABLE)
        raise AdminOnlyFields(
            f"A manager may change only matching_weights, not {', '.join(refused)}."
        )
    new_slug = changes.get("slug", agency.slug)
    if new_slug != agency.slug and session.scalar(select(Agency.id).where(Agency.slug == new_slug)):
        raise SlugTaken(f"An agency with slug {changes['slug']} exists.")
    if changes.get("base_outcode") is not None:
        changes["base_outcode"] = known_outcode(changes["base_outcode"], "base_outcode")
    if "matching_weights" in changes:
        check_weights(changes["matching_weights"])
    unique = slug_taken(f"An agency with slug {new_slug} exists.")
    with unit_of_work(session, integrity_error=unique) as uow:
        for name, value in changes.items():
            setattr(agency, name, value)
        uow.commit()
    return agency


def check_weights(weights: dict[str, float]) -> None:
    """Keys must be matching.Weights fields and values within 0..1 (422 naming the field)."""
    problems = [f"Unknown weight {k!r}." for k in weights if k not in WEIGHT_NAMES]
    problems += [f"{k} must be between 0 and 1." for k, v in weights.items() if not 0 <= v <= 1]
    if problems:
        raise InvalidInput(errors={"matching_weights": problems})


def known_outcode(text: str, field: str) -> str:
    """A bare outcode we have a centroid for, normalised ("bs3" -> "BS3"); 422 otherwise."""
    try:
        parts = matching.parse_postcode(text)
        if parts.sector is not None:
            raise InvalidInput(errors={field: [f"{text!r} is a full postcode; give the outcode."]})
        matching.outcode_table().row(parts.outcode)
    except matching.InvalidPostcode:
        raise InvalidInput(errors={field: [f"{text!r} is not a UK outcode."]}) from None
    except matching.UnknownOutcode:
        raise InvalidInput(errors={field: [f"We have no location for {text!r}."]}) from None
    return parts.outcode


def list_service_types(session: Session) -> list[ServiceType]:
    return list(session.scalars(select(ServiceType).order_by(ServiceType.position)))


def service_keys(session: Session) -> dict[str, ServiceType]:
    return {s.key: s for s in list_service_types(session)}


# Service type keys read from each database (its URL's text): they are reference data
# that only migrations write (agency.models.REFERENCE_TABLES) and none removes at run time.
_known_keys: dict[str, frozenset[str]] = {}


def unknown_service_keys(session: Session, keys: Iterable[str]) -> list[str]:
    """The keys that name no service type, sorted (empty: every key is known).

    A key once read from the database stays known for the life of the process, so a
    request naming only keys already seen costs no query; any other key is looked up,
    with the whole (small) taxonomy, every time.
    """
    wanted = set(keys)
    database = str(session.get_bind().engine.url)
    if wanted <= _known_keys.get(database, frozenset()):
        return []
    found = frozenset(session.scalars(select(ServiceType.key)))
    _known_keys[database] = found
    return sorted(wanted - found)
