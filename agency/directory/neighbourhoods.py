"""Neighbourhoods (whole outcodes, covered by one agency or none) and postcode look-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from agency.access import Kind, Principal
from agency.directory import places
from agency.directory.models import Agency, Council, Neighbourhood, NeighbourhoodOutcode
from agency.directory.service import SlugTaken, known_outcode, slug_taken
from agency.errors import Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.unit_of_work import unit_of_work


def neighbourhoods_query(
    council_id: str | None = None, agency_id: str | None = None
) -> Select[Any]:
    stmt = (
        select(Neighbourhood)
        .options(selectinload(Neighbourhood.outcodes), selectinload(Neighbourhood.agency))
        .order_by(Neighbourhood.name, Neighbourhood.id)
    )
    if council_id is not None:
        stmt = stmt.where(Neighbourhood.council_id == council_id)
    if agency_id is not None:
        stmt = stmt.where(Neighbourhood.agency_id == agency_id)
    return stmt


def create_neighbourhood(
    session: Session, principal: Principal, fields: dict[str, Any]
) -> Neighbourhood:
    """An admin draws a neighbourhood from known outcodes, covered by an agency or none."""
    _admin_only(principal)
    if session.get(Council, fields["council_id"]) is None:
        raise InvalidInput(errors={"council_id": [f"No council with id {fields['council_id']}."]})
    if session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == fields["slug"])):
        raise SlugTaken(f"A neighbourhood with slug {fields['slug']} exists.")
    _check_agency(session, fields.get("agency_id"), fields["council_id"])
    hood = Neighbourhood(
        id=new_id("nbh"),
        council_id=fields["council_id"],
        agency_id=fields.get("agency_id"),
        slug=fields["slug"],
        name=fields["name"],
    )
    hood.outcodes = [NeighbourhoodOutcode(outcode=o) for o in _outcodes(fields["outcodes"])]
    unique = slug_taken(f"A neighbourhood with slug {fields['slug']} exists.")
    with unit_of_work(session, integrity_error=unique) as uow:
        session.add(hood)
        uow.commit()
    session.expire(hood, ["outcodes"])  # reload in the relationship's order
    return hood


def get_neighbourhood(session: Session, neighbourhood_id: str) -> Neighbourhood:
    hood = session.scalar(neighbourhoods_query().where(Neighbourhood.id == neighbourhood_id))
    if hood is None:
        raise NotFound(f"No neighbourhood with id {neighbourhood_id}.")
    return hood


def update_neighbourhood(
    session: Session, principal: Principal, neighbourhood_id: str, changes: dict[str, Any]
) -> Neighbourhood:
    """An admin renames a neighbourhood, reassigns its agency (or none) or redraws it."""
    _admin_only(principal)
    hood = session.get(Neighbourhood, neighbourhood_id)
    if hood is None:
        raise NotFound(f"No neighbourhood with id {neighbourhood_id}.")
    with unit_of_work(session) as uow:
        if "agency_id" in changes:
            _check_agency(session, changes["agency_id"], hood.council_id)
            hood.agency_id = changes["agency_id"]
        if "name" in changes:
            hood.name = changes["name"]
        if "outcodes" in changes:
            wanted = _outcodes(changes["outcodes"])
            kept = [o for o in hood.outcodes if o.outcode in wanted]
            have = {o.outcode for o in kept}
            added = [NeighbourhoodOutcode(outcode=o) for o in wanted if o not in have]
            hood.outcodes = kept + added
        uow.commit()
    session.expire(hood, ["outcodes", "agency"])  # reload in the relationship's order
    return hood


@dataclass(frozen=True)
class PostcodeAnswer:
    """Where a postcode is, reduced to its outcode and sector (nothing finer is kept)."""

    outcode: str
    sector: str | None
    neighbourhood: Neighbourhood | None
    agency: Agency | None
    council: Council | None


def resolve_postcode(session: Session, postcode: str) -> PostcodeAnswer:
    """Postcode -> outcode, sector, neighbourhood, covering agency (or none) and council."""
    place = places.locate(session, postcode, "postcode")
    hood = session.get(Neighbourhood, place.neighbourhood_id) if place.neighbourhood_id else None
    return PostcodeAnswer(
        outcode=place.outcode,
        sector=place.sector,
        neighbourhood=hood,
        agency=session.get(Agency, place.agency_id) if place.agency_id else None,
        council=session.get(Council, place.council_id) if place.council_id else None,
    )


def _admin_only(principal: Principal) -> None:
    if principal.kind is not Kind.ADMIN:
        raise Forbidden("Only an admin draws neighbourhoods.")


def _check_agency(session: Session, agency_id: str | None, council_id: str) -> None:
    if agency_id is None:
        return
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise InvalidInput(errors={"agency_id": [f"No agency with id {agency_id}."]})
    if agency.council_id != council_id:
        raise InvalidInput(errors={"agency_id": ["The agency belongs to another council."]})


def _outcodes(texts: list[str]) -> list[str]:
    """Normalised, de-duplicated known outcodes, in the order given (422 naming outcodes)."""
    result: list[str] = []
    for text in texts:
        outcode = known_outcode(text, "outcodes")
        if outcode not in result:
            result.append(outcode)
    return result
