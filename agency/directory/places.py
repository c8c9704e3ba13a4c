"""Where a postcode is: outcode -> centroid -> neighbourhood -> agency -> council.

People's postcodes are reduced here to the outcode and sector at once; nothing
finer is stored. An outcode no agency covers still resolves (its centroid), with
no agency: the request is kept and reported as unmet need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, select
from sqlalchemy.orm import Session, aliased

import matching
from agency.directory.models import Agency, Locality, Neighbourhood, NeighbourhoodOutcode
from agency.errors import InvalidInput


@dataclass(frozen=True)
class Place:
    outcode: str
    sector: str | None
    lat: float
    lon: float
    neighbourhood_id: str | None = None
    agency_id: str | None = None
    council_id: str | None = None
    agency_council_id: str | None = None  # the covering agency's council (read with it)


def parse(postcode: str, field: str = "postcode") -> tuple[str, str | None, float, float]:
    """Validate a full postcode or outcode; 422 naming ``field`` when it is not usable."""
    try:
        parts = matching.parse_postcode(postcode)
        lat, lon = matching.outcode_table().latlon(parts.outcode)
    except matching.InvalidPostcode:
        raise InvalidInput(errors={field: [f"{postcode!r} is not a valid UK postcode."]}) from None
    except matching.UnknownOutcode:
        raise InvalidInput(
            errors={field: [f"We have no location for the postcode area of {postcode!r}."]}
        ) from None
    return parts.outcode, parts.sector, lat, lon


# Several neighbourhoods may share an outcode; the first by name decides (docs/data.md).
# The covering agency's council comes in the same round trip; plain columns, not a
# Neighbourhood object (a request's routing reads three of its fields). Built once: every
# care request is routed through it.
ROUTE_COLUMNS = (
    Neighbourhood.id,
    Neighbourhood.agency_id,
    Neighbourhood.council_id,
    Agency.council_id.label("agency_council_id"),
)
_PLACE_OF_OUTCODE = (
    select(*ROUTE_COLUMNS)
    .select_from(Neighbourhood)
    .join(NeighbourhoodOutcode)
    .outerjoin(Agency, Agency.id == Neighbourhood.agency_id)
    .where(NeighbourhoodOutcode.outcode == bindparam("outcode"))
    .order_by(Neighbourhood.agency_id.is_(None), Neighbourhood.name)
    .limit(1)
)


def routing_neighbourhood(outcode: ColumnElement[str]) -> ScalarSelect[str]:
    """The id of the neighbourhood that routes ``outcode`` (an SQL expression), as a subquery.

    For a statement that reads the routing with other rows in one round trip: it outer
    joins ``Neighbourhood`` on this id and ``Agency`` on its agency, selects
    :data:`ROUTE_COLUMNS`, and passes them to :func:`locate` (``read=``).
    """
    return (
        select(_CANDIDATE.id)
        .join(NeighbourhoodOutcode, NeighbourhoodOutcode.neighbourhood_id == _CANDIDATE.id)
        .where(NeighbourhoodOutcode.outcode == outcode)
        .order_by(_CANDIDATE.agency_id.is_(None), _CANDIDATE.name)
        .limit(1)
        .scalar_subquery()
    )


_CANDIDATE = aliased(Neighbourhood, name="candidate")  # not the caller's neighbourhoods


def locate(
    session: Session,
    postcode: str,
    field: str = "postcode",
    read: Sequence[str | None] | None = None,
) -> Place:
    """Resolve a postcode to its place and the agency (if any) whose neighbourhood covers it.

    ``read``: the :data:`ROUTE_COLUMNS` of the postcode's outcode, already read by the
    caller's statement (all None: no neighbourhood), so none is run here.
    """
    outcode, sector, lat, lon = parse(postcode, field)
    found: Sequence[str | None] | None
    if read is None:
        found = session.execute(_PLACE_OF_OUTCODE, {"outcode": outcode}).first()
    else:
        found = read if read[0] is not None else None
    if found is None:
        return Place(outcode, sector, lat, lon)
    neighbourhood_id, agency_id, council_id, agency_council_id = found
    return Place(
        outcode, sector, lat, lon, neighbourhood_id, agency_id, council_id, agency_council_id
    )


def locality_of(outcode: str, council_area: str | None) -> tuple[Locality, str]:
    """Place a supplier base in the local-spend circles of a council, and say how.

    The outcode's published centroid decides, never the provider's own point: a
    point near a boundary (or a demo point jittered around the centroid) would
    otherwise put a BS10 provider outside Bristol.
    """
    if council_area is None:
        return Locality.NATIONAL, "no council area configured"
    lat, lon = matching.outcode_table().latlon(outcode)
    circle = matching.locality_circle(lat, lon, council_area, outcode)
    basis = f"centroid of {outcode} (GeoNames) tested against OS Boundary-Line council boundaries"
    return Locality(circle), basis
