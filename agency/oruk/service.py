"""Open Referral UK: approved, compliant providers as ORUK services (see docs/oruk.md).

One service per provider, offered by an organisation that is the provider itself
(micro-providers are sole traders and small groups), delivered at people's homes
within the provider's travel radius of its postcode district. The rows come from
the public provider directory's query, so this view can never show more than
seekers see: no email, no contact, no compliance evidence, no exact location.

Ids are UUIDv5s of our ids (``agency.providers.models.oruk_uuid``); the item
endpoints accept them (and our own ids). A service-at-location's id is its
service's UUID with fixed bits flipped (:func:`sal_uuid`), so it maps back too.
Optional fields we do not have are left out, never sent as null.

The agencies' community activities (``agency.activities``) are services too, after the
providers in the list: each a service of its agency at its venue (bottom of this module).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, String, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session

import matching
from agency.activities.models import INTERESTS, Activity
from agency.directory import eligibility, places, provider_directory
from agency.directory.models import Agency, ServiceType
from agency.directory.provider_directory import PublicEntry
from agency.directory.service import list_service_types
from agency.errors import InvalidInput, NotFound
from agency.introductions.models import Arrangement, ArrangementStatus, ArrangementVersion
from agency.providers.models import Provider, ProviderService, oruk_uuid
from agency.schedule import mask_from_hex, windows_to_mask

VOCABULARY = "introductory-agency-services"
ORUK_VERSION = "3.0"
PROFILE = "https://openreferraluk.org/"
TAXONOMY_ID = oruk_uuid("taxonomy", VOCABULARY)
INTERESTS_VOCABULARY = "introductory-agency-activity-interests"
INTERESTS_TAXONOMY_ID = oruk_uuid("taxonomy", INTERESTS_VOCABULARY)
# XOR mask from a service UUID to its one service-at-location UUID: keeps the version
# nibble (5) and the RFC 4122 variant bits, so the result is still a valid UUIDv5 shape.
_SAL_MASK = 0xFFFFFFFF_FFFF_0FFF_3FFF_FFFFFFFFFFFF
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SLOTS_PER_DAY = 48  # half-hour slots, as matching.availability
CIRCLE_VERTICES = 32


@dataclass
class Page:
    """What ``page_then_total`` needs: page, page_size, and room for the total."""

    page: int
    page_size: int
    item_count: int | None = None


# --- ids ---------------------------------------------------------------------------------------


def sal_uuid(service_id: str) -> str:
    return str(uuid.UUID(int=uuid.UUID(service_id).int ^ _SAL_MASK))


def _provider_by_public_id(public_id: str) -> ColumnElement[bool]:
    """Our id (``prv_...``) or the UUID we publish."""
    return or_(Provider.id == public_id, Provider.oruk_id == public_id.lower())


# --- the feed ---------------------------------------------------------------------------------


def list_services(
    session: Session, base_url: str, query: dict[str, Any], today: dt.date | None = None
) -> dict[str, Any]:
    """One ORUK page of services (filters in docs/oruk.md): providers by name, then the
    agencies' community activities by name, paged as one list."""
    entries, pager, context = _page(session, query, today)
    if query.get("minimal"):
        contents = [_minimal(e, base_url) for e in entries]
    elif query.get("full"):
        contents = [to_service(e, base_url, context) for e in entries]
    else:
        contents = [_service_list_item(e, base_url, context) for e in entries]
    providers = pager.item_count or 0
    offset = max(0, (pager.page - 1) * pager.page_size - providers)
    activities, total = _activity_page(session, query, offset, pager.page_size - len(entries))
    shape = "minimal" if query.get("minimal") else "full" if query.get("full") else "list"
    contents += [activity_service(a, agency, base_url, shape) for a, agency in activities]
    pager.item_count = providers + total
    return envelope(contents, pager)


def get_service(
    session: Session, base_url: str, service_id: str, today: dt.date | None = None
) -> dict[str, Any]:
    """One fully nested ORUK service (a provider eligible and public, or an activity)."""
    try:
        entry = _public_entry(session, service_id, today)
    except NotFound:
        found = _activity_by_public_id(session, service_id)
        if found is None:
            raise
        return activity_service(*found, base_url, "full")
    return to_service(entry, base_url, _Context.load(session, [entry], today))


def list_service_at_locations(
    session: Session, base_url: str, query: dict[str, Any], today: dt.date | None = None
) -> dict[str, Any]:
    """One ORUK page of service-at-locations: one per service, at its postcode district."""
    entries, pager, context = _page(session, query, today)
    return envelope([_sal(e, base_url, context, full=False) for e in entries], pager)


def get_service_at_location(
    session: Session, base_url: str, sal_id: str, today: dt.date | None = None
) -> dict[str, Any]:
    try:
        service_id = sal_uuid(sal_id)
    except ValueError:
        raise NotFound(f"No service at location with id {sal_id}.") from None
    try:
        entry = _public_entry(session, service_id, today, missing=f"service at location {sal_id}")
    except NotFound:
        found = _activity_by_public_id(session, service_id)
        if found is None:
            raise
        service = activity_service(*found, base_url, "full")
        return {**service.pop("service_at_locations")[0], "service": service}
    return _sal(entry, base_url, _Context.load(session, [entry], today), full=True)


def list_taxonomies(session: Session, page: int, per_page: int) -> dict[str, Any]:
    items = [to_taxonomy(session, with_terms=False), interests_taxonomy(with_terms=False)]
    return envelope(items[(page - 1) * per_page : page * per_page], Page(page, per_page, 2))


def get_taxonomy(session: Session, taxonomy_id: str) -> dict[str, Any]:
    if taxonomy_id.lower() in (INTERESTS_TAXONOMY_ID, INTERESTS_VOCABULARY):
        return interests_taxonomy(with_terms=True)
    if taxonomy_id.lower() not in (TAXONOMY_ID, VOCABULARY):
        raise NotFound(f"No taxonomy with id {taxonomy_id}.")
    return to_taxonomy(session, with_terms=True)


def list_taxonomy_terms(session: Session, page: int, per_page: int) -> dict[str, Any]:
    """Our service types, then activity interests (each its taxonomy's terms), in an ORUK page."""
    terms = [to_term(kind) for kind in list_service_types(session)]
    terms += [interest_term(code) for code in INTERESTS]
    start = (page - 1) * per_page
    return envelope(terms[start : start + per_page], Page(page, per_page, len(terms)))


def get_taxonomy_term(session: Session, term_id: str) -> dict[str, Any]:
    kind = _service_type(session, term_id)
    if kind is None and _interest(term_id):
        return interest_term(_interest(term_id) or "")
    if kind is None:
        raise NotFound(f"No taxonomy term with id {term_id}.")
    return to_term(kind)


def envelope(contents: list[Any], pager: Page) -> dict[str, Any]:
    """The ORUK v3 paged envelope; ``size`` is the number of items on this page."""
    total = pager.item_count or 0
    total_pages = math.ceil(total / pager.page_size)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": pager.page,
        "size": len(contents),
        "first_page": pager.page == 1,
        "last_page": pager.page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


# --- filtering --------------------------------------------------------------------------------


def _page(
    session: Session, query: dict[str, Any], today: dt.date | None
) -> tuple[list[PublicEntry], Page, _Context]:
    today = today or eligibility.london_today()
    stmt = select(Provider).where(eligibility.public_clause(today))
    for clause in _filter_clauses(session, query):
        stmt = stmt.where(clause)
    if query.get("day") or query.get("start_time") or query.get("end_time"):
        stmt = stmt.where(Provider.id.in_(_available_ids(session, stmt, query)))
    stmt = stmt.options(*provider_directory.PUBLIC_LOADS)
    stmt = stmt.order_by(Provider.trading_name, Provider.id)
    pager = Page(query["page"], query["per_page"])
    providers = provider_directory.page_then_total(session, stmt, pager)
    entries = provider_directory.public_entries(session, providers)
    return entries, pager, _Context.load(session, entries, today)


def _filter_clauses(session: Session, query: dict[str, Any]) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.get("taxonomy_term_id"):
        kind = _service_type(session, query["taxonomy_term_id"])
        if kind is None and _interest(query["taxonomy_term_id"]) is None:
            raise InvalidInput(errors={"taxonomy_term_id": ["No such taxonomy term."]})
        clauses.append(eligibility.offers_service_clause(kind.key) if kind else false())
    taxonomy = (query.get("taxonomy_id") or "").lower()
    if taxonomy in (INTERESTS_TAXONOMY_ID, INTERESTS_VOCABULARY):
        clauses.append(false())  # activity interests: activities only
    elif taxonomy and taxonomy not in (TAXONOMY_ID, VOCABULARY):
        raise InvalidInput(
            errors={"taxonomy_id": [f"The taxonomies are {TAXONOMY_ID}, {INTERESTS_TAXONOMY_ID}."]}
        )
    if query.get("search"):
        clauses.append(_search_clause(query["search"]))
    if query.get("modified_after"):
        clauses.append(Provider.updated_at >= query["modified_after"])
    if query.get("organization_id"):
        clauses.append(Provider.oruk_organization_id == query["organization_id"].strip().lower())
    if query.get("proximity") is not None and not query.get("postcode"):
        raise InvalidInput(errors={"proximity": ["Give a postcode to measure proximity from."]})
    if query.get("postcode"):
        _, _, lat, lon = places.parse(query["postcode"], "postcode")
        clauses.append(covers_clause(lat, lon, query.get("proximity")))
    return clauses


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_clause(text: str) -> ColumnElement[bool]:
    """Words of ``text`` each in the name, the bio or a service type's name (any case)."""
    clauses = []
    for word in text.lower().split()[:8]:
        pattern = _like(word)
        clauses.append(
            or_(
                func.lower(Provider.trading_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Provider.bio, "")).like(pattern, escape="\\"),
                exists().where(
                    ProviderService.provider_id == Provider.id,
                    ProviderService.service_key == ServiceType.key,
                    func.lower(ServiceType.name).like(pattern, escape="\\"),
                ),
            )
        )
    return and_(*clauses)


def covers_clause(lat: float, lon: float, proximity_m: float | None) -> ColumnElement[bool]:
    """The service area (travel radius around the base outcode's centroid) covers the point;
    with ``proximity`` (metres), also that centroid is within that distance of the point.

    All in SQL on the indexed ``base_outcode``: the outcodes whose centroid lies within the
    longest radius are found from the shipped table, and each one's distance becomes a
    ``CASE`` compared with the provider's own radius.
    """
    table = matching.outcode_table()
    km = matching.haversine_km(lat, lon, table.lat, table.lon)
    reach = provider_directory.MAX_RADIUS_KM
    if proximity_m is not None:
        reach = min(reach, proximity_m / 1000)
    rows = np.flatnonzero(km <= reach)
    if not len(rows):
        return Provider.id.is_(None)  # nothing can reach: no rows, still SQL
    distance = {table.outcodes[i]: round(float(km[i]), 4) for i in rows}
    centroid_km = case(distance, value=Provider.base_outcode)
    return and_(Provider.base_outcode.in_(distance), centroid_km <= Provider.travel_radius_km)


def _available_ids(session: Session, stmt: Any, query: dict[str, Any]) -> list[str]:
    """Ids among ``stmt`` free throughout ``start_time``-``end_time`` on ``day``.

    The weekly masks are bit strings, not portable SQL: they are read narrowly (id and mask
    of the SQL candidates) and tested as one NumPy array.
    """
    rows = session.execute(
        select(Provider.id, Provider.availability_mask).where(
            Provider.id.in_(stmt.with_only_columns(Provider.id).scalar_subquery())
        )
    ).all()
    return _free_ids([(pid, _bits(mask)) for pid, mask in rows], query)


def _free_ids(rows: list[tuple[str, np.ndarray]], query: dict[str, Any]) -> list[str]:
    """Ids whose week of slots is free (or on) throughout the day/time filter's window."""
    days = [DAYS.index(query["day"])] if query.get("day") else list(range(7))
    start, end = _slot(query.get("start_time")), _slot(query.get("end_time"))
    if end == 0:
        raise InvalidInput(errors={"end_time": ["Must be after 00:00."]})
    if start is not None and end is not None and end <= start:
        raise InvalidInput(errors={"end_time": ["Must be after start_time."]})
    if start is None and end is None:
        start, end, need_all = 0, SLOTS_PER_DAY, False  # a day alone: free at some time
    else:
        start = end - 1 if start is None else start  # end alone: the half hour before it
        end = start + 1 if end is None else end  # start alone: the half hour from it
        need_all = True
    if not rows:
        return []
    bits = np.array([slots for _, slots in rows])
    free = np.zeros(len(rows), dtype=bool)
    for day in days:
        window = bits[:, day * SLOTS_PER_DAY + start : day * SLOTS_PER_DAY + end]
        free |= window.all(axis=1) if need_all else window.any(axis=1)
    return [row[0] for row, ok in zip(rows, free, strict=True) if ok]


def _slot(value: dt.time | None) -> int | None:
    if value is None:
        return None
    if value.minute % 30 or value.second:
        raise InvalidInput(errors={"start_time": ["Times are on the half hour (HH:00 or HH:30)."]})
    return value.hour * 2 + value.minute // 30


def _bits(mask_hex: str) -> np.ndarray:
    """The 336 half-hour slots of a week (Monday 00:00 first) as booleans."""
    return _mask_bits(mask_from_hex(mask_hex))


def _mask_bits(mask: np.ndarray) -> np.ndarray:
    words = mask.astype("<u8").view(np.uint8)
    return np.unpackbits(words, bitorder="little")[: 7 * SLOTS_PER_DAY].astype(bool)


# --- what a page needs besides the providers ----------------------------------------------------


@dataclass
class _Context:
    terms: dict[str, dict[str, Any]]
    arranged_minutes: dict[str, int]
    today: dt.date

    @classmethod
    def load(cls, session: Session, entries: list[PublicEntry], today: dt.date | None) -> _Context:
        ids = [e.provider.id for e in entries]
        minutes: dict[str, int] = {}
        if ids:
            stmt = (
                select(Arrangement.provider_id, func.sum(ArrangementVersion.minutes_per_week))
                .join(
                    ArrangementVersion,
                    and_(
                        ArrangementVersion.arrangement_id == Arrangement.id,
                        ArrangementVersion.version == Arrangement.current_version,
                    ),
                )
                .where(
                    Arrangement.status == ArrangementStatus.ACTIVE,
                    Arrangement.provider_id.in_(ids),
                )
                .group_by(Arrangement.provider_id)
            )
            minutes = {pid: int(m or 0) for pid, m in session.execute(stmt)}
        terms = {kind.key: to_term(kind) for kind in list_service_types(session)}
        return cls(terms, minutes, today or eligibility.london_today())


def _public_entry(
    session: Session, public_id: str, today: dt.date | None, missing: str | None = None
) -> PublicEntry:
    today = today or eligibility.london_today()
    provider = session.scalar(
        select(Provider)
        .where(_provider_by_public_id(public_id), eligibility.public_clause(today))
        .options(*provider_directory.PUBLIC_LOADS)
    )
    if provider is None:
        raise NotFound(f"No {missing or 'service'} with id {public_id}.")
    return provider_directory.public_entries(session, [provider])[0]


def _service_type(session: Session, term_id: str) -> ServiceType | None:
    wanted = term_id.strip().lower()
    return next(
        (k for k in list_service_types(session) if wanted in (k.key, oruk_uuid("term", k.key))),
        None,
    )


# --- shapes -------------------------------------------------------------------------------------


def to_taxonomy(session: Session, with_terms: bool) -> dict[str, Any]:
    taxonomy: dict[str, Any] = {
        "id": TAXONOMY_ID,
        "name": VOCABULARY,
        "description": "Kinds of support that introductory agencies' micro-providers offer "
        "at home: companionship, shopping, meal preparation, personal care and more.",
        "version": "1",
    }
    if with_terms:
        taxonomy["taxonomy_terms"] = [to_term(kind) for kind in list_service_types(session)]
    return taxonomy


def to_term(kind: ServiceType) -> dict[str, Any]:
    return {
        "id": oruk_uuid("term", kind.key),
        "code": kind.key,
        "term": kind.name,
        "name": kind.name,
        "description": kind.description,
        "taxonomy": VOCABULARY,
        "taxonomy_id": TAXONOMY_ID,
        "vocabulary": VOCABULARY,
        "language": "en",
    }


def _description(entry: PublicEntry) -> str:
    provider = entry.provider
    if provider.bio:
        return provider.bio
    offers = ", ".join(s["name"].lower() for s in entry.services) or "support at home"
    return f"{provider.trading_name}: {offers}, from a local micro-provider based in " + (
        f"{provider.base_outcode}."
    )


def _organization(entry: PublicEntry) -> dict[str, Any]:
    provider = entry.provider
    return {
        "id": provider.oruk_organization_id,
        "name": provider.trading_name,
        "description": _description(entry),
    }


def _service_core(entry: PublicEntry, base_url: str) -> dict[str, Any]:
    provider = entry.provider
    service: dict[str, Any] = {
        "id": provider.oruk_id,
        "organization_id": provider.oruk_organization_id,
        "name": provider.trading_name,
        "description": _description(entry),
        "url": f"{base_url}/oruk/services/{provider.oruk_id}",
        "status": "active",
        "last_modified": _utc(provider.updated_at),
    }
    if entry.services:
        lowest = min(s["rate_pence"] for s in entry.services)
        service["fees"] = f"From £{lowest / 100:.2f} per hour"
    return service


def _minimal(entry: PublicEntry, base_url: str) -> dict[str, Any]:
    core = _service_core(entry, base_url)
    return {k: core[k] for k in ("id", "name", "status", "url", "last_modified")}


def _service_list_item(entry: PublicEntry, base_url: str, context: _Context) -> dict[str, Any]:
    return {**_service_core(entry, base_url), "organization": _organization(entry)}


def to_service(entry: PublicEntry, base_url: str, context: _Context) -> dict[str, Any]:
    """A provider as a fully nested ORUK service (mapping in docs/oruk.md)."""
    service = _service_list_item(entry, base_url, context)
    service_id = service["id"]
    service.update(
        schedules=_schedules(entry, service_id),
        service_areas=[_service_area(entry, service_id)],
        service_at_locations=[
            {
                "id": sal_uuid(service_id),
                "service_id": service_id,
                "location_id": _location(entry)["id"],
                "location": _location(entry),
            }
        ],
        languages=[
            {
                "id": oruk_uuid("language", f"{entry.provider.id}/{code}"),
                "service_id": service_id,
                "name": code,
                **({"code": code.lower()} if len(code) <= 3 else {}),
            }
            for code in entry.provider.languages or []
        ],
        cost_options=[
            {
                "id": oruk_uuid("cost_option", f"{entry.provider.id}/{s['service_key']}"),
                "service_id": service_id,
                "option": s["name"],
                "amount": s["rate_pence"] / 100,
                "amount_description": "per hour",
                "currency": "GBP",
            }
            for s in entry.services
        ],
        attributes=[
            {
                "id": oruk_uuid("attribute", f"{entry.provider.id}/{s['service_key']}"),
                "link_id": service_id,
                "link_type": "service_type",
                "link_entity": "service",
                "taxonomy_term_id": context.terms[s["service_key"]]["id"],
                "taxonomy_term": context.terms[s["service_key"]],
            }
            for s in entry.services
        ],
        capacity=_capacity(entry, context),
    )
    return service


def _sal(entry: PublicEntry, base_url: str, context: _Context, full: bool) -> dict[str, Any]:
    service = (
        to_service(entry, base_url, context)
        if full
        else _service_list_item(entry, base_url, context)
    )
    if full:
        service.pop("service_at_locations")
    location = _location(entry)
    return {
        "id": sal_uuid(service["id"]),
        "service_id": service["id"],
        "location_id": location["id"],
        "location": location,
        "service": service,
    }


def _location(entry: PublicEntry) -> dict[str, Any]:
    """Home visits have no premises: the location is the base postcode district's centre."""
    outcode = entry.provider.base_outcode
    lat, lon = matching.outcode_table().latlon(outcode)
    return {
        "id": oruk_uuid("location", outcode),
        "name": f"Postcode district {outcode}",
        "description": f"Visits people at home; based in postcode district {outcode} "
        "(the point is the district's centre, not an address).",
        "latitude": round(lat, 5),
        "longitude": round(lon, 5),
        "location_type": "virtual",
    }


def _service_area(entry: PublicEntry, service_id: str) -> dict[str, Any]:
    provider = entry.provider
    radius = f"{provider.travel_radius_km:g}"
    text = f"Up to {radius} km from the centre of postcode district {provider.base_outcode}"
    return {
        "id": oruk_uuid("service_area", provider.id),
        "service_id": service_id,
        "name": text,
        "service_area": text,
        "extent": json.dumps(circle(provider.base_outcode, provider.travel_radius_km)),
        "extent_type": "geojson",
    }


def circle(outcode: str, radius_km: float) -> dict[str, Any]:
    """A GeoJSON Polygon approximating the travel radius around the outcode's centroid."""
    lat, lon = matching.outcode_table().latlon(outcode)
    points = []
    for i in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * i / CIRCLE_VERTICES
        dlat = radius_km / 111.2 * math.cos(bearing)
        dlon = radius_km / (111.2 * math.cos(math.radians(lat))) * math.sin(bearing)
        points.append([round(lon + dlon, 5), round(lat + dlat, 5)])
    points.append(points[0])  # a linear ring closes on its first point
    return {"type": "Polygon", "coordinates": [points]}


def _schedules(entry: PublicEntry, service_id: str) -> list[dict[str, Any]]:
    """Weekly availability as RFC 5545 RRULE parts: one schedule per distinct time window."""
    mask = mask_from_hex(entry.provider.availability_mask)
    return weekly_schedules(mask, entry.provider.id, service_id, "Available for visits")


def weekly_schedules(
    mask: np.ndarray, our_id: str, service_id: str, what: str
) -> list[dict[str, Any]]:
    """A weekly mask as RFC 5545 RRULE parts: one schedule per distinct time window."""
    days_by_window: dict[tuple[str, str], list[int]] = {}
    for day, start, end in matching.availability.windows_from_mask(mask):
        days_by_window.setdefault((start, end), []).append(day)
    schedules = []
    for (start, end), days in sorted(days_by_window.items()):
        byday = ",".join(DAYS[d] for d in sorted(set(days)))
        schedules.append(
            {
                "id": oruk_uuid("schedule", f"{our_id}/{byday}/{start}-{end}"),
                "service_id": service_id,
                "freq": "WEEKLY",
                "interval": 1,
                "byday": byday,
                "opens_at": start,
                "closes_at": end,
                "description": f"{what} {byday} {start}-{end}, Europe/London local time",
            }
        )
    return schedules


def _capacity(entry: PublicEntry, context: _Context) -> dict[str, Any]:
    """Spare weekly hours (an extension; see docs/oruk.md): nothing about any seeker."""
    provider = entry.provider
    window_hours = float(_bits(provider.availability_mask).sum()) / 2
    cap = provider.capacity_hours_per_week or 0.0
    available = min(cap, window_hours) if cap > 0 else window_hours
    arranged = context.arranged_minutes.get(provider.id, 0) / 60
    spare = max(0.0, available - arranged)
    return {
        "as_of": context.today.isoformat(),
        "weekly_hours_available": round(available, 1),
        "weekly_hours_arranged": round(arranged, 1),
        "weekly_hours_spare": round(spare, 1),
        "by_service": [
            {
                "taxonomy_term_id": context.terms[s["service_key"]]["id"],
                "service_type": s["service_key"],
                "weekly_hours_spare": round(spare, 1),
            }
            for s in entry.services
        ],
    }


def _utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- community activities (agency.activities) as ORUK services -----------------------------------
# An activity is a service of the agency that publishes it, at its venue (outcode level), with
# weekly sessions, a cost per session and interest terms. Nothing about referrals, attendance or
# places left: the feed says nothing about seekers.


def activity_uuid(activity_id: str) -> str:
    return oruk_uuid("activity", activity_id)


def interests_taxonomy(with_terms: bool) -> dict[str, Any]:
    taxonomy: dict[str, Any] = {
        "id": INTERESTS_TAXONOMY_ID,
        "name": INTERESTS_VOCABULARY,
        "description": "Interests that community activities published by introductory "
        "agencies serve: lunch clubs, walking, music, crafts and more.",
        "version": "1",
    }
    if with_terms:
        taxonomy["taxonomy_terms"] = [interest_term(code) for code in INTERESTS]
    return taxonomy


def interest_term(code: str) -> dict[str, Any]:
    name = code.replace("_", " ").capitalize()
    return {
        "id": oruk_uuid("term", f"interest/{code}"),
        "code": code,
        "term": name,
        "name": name,
        "description": f"Community activities: {name.lower()}.",
        "taxonomy": INTERESTS_VOCABULARY,
        "taxonomy_id": INTERESTS_TAXONOMY_ID,
        "vocabulary": INTERESTS_VOCABULARY,
        "language": "en",
    }


def _interest(term_id: str) -> str | None:
    wanted = term_id.strip().lower()
    return next((c for c in INTERESTS if wanted in (c, interest_term(c)["id"])), None)


def _activity_page(
    session: Session, query: dict[str, Any], offset: int, limit: int
) -> tuple[list[tuple[Activity, Agency]], int]:
    """``limit`` filtered activities from ``offset`` with their agencies, and how many match."""
    stmt = select(Activity.id)
    for clause in _activity_clauses(session, query):
        stmt = stmt.where(clause)
    if query.get("day") or query.get("start_time") or query.get("end_time"):
        rows = session.execute(stmt.add_columns(Activity.schedule)).all()
        sessions = [(aid, _mask_bits(windows_to_mask(s, "schedule"))) for aid, s in rows]
        stmt = select(Activity.id).where(Activity.id.in_(_free_ids(sessions, query)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if limit <= 0 or offset >= total:
        return [], total
    page = session.execute(
        select(Activity, Agency)
        .join(Agency, Agency.id == Activity.agency_id)
        .where(Activity.id.in_(stmt.scalar_subquery()))
        .order_by(Activity.name, Activity.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [(a, agency) for a, agency in page], total


def _activity_clauses(session: Session, query: dict[str, Any]) -> list[ColumnElement[bool]]:
    """The list filters as they apply to activities (providers' are checked, 422s, first)."""
    clauses: list[ColumnElement[bool]] = []
    if query.get("organization_id"):
        agency_id = _agency_of_organization(session, query)
        clauses.append(Activity.agency_id == agency_id if agency_id else false())
    if query.get("taxonomy_term_id"):
        code = _interest(query["taxonomy_term_id"])
        # JSON list of codes, as text: portable across PostgreSQL and SQLite.
        interests = func.cast(Activity.interests, String)
        clauses.append(interests.like(_like(f'"{code}"'), escape="\\") if code else false())
    taxonomy = (query.get("taxonomy_id") or "").lower()
    if taxonomy and taxonomy not in (INTERESTS_TAXONOMY_ID, INTERESTS_VOCABULARY):
        clauses.append(false())
    if query.get("search") or query.get("text"):
        for word in (query.get("search") or query["text"]).lower().split()[:8]:
            clauses.append(
                or_(
                    *(
                        func.lower(func.coalesce(column, "")).like(_like(word), escape="\\")
                        for column in (Activity.name, Activity.organiser, Activity.venue)
                    )
                )
            )
    if query.get("modified_after"):
        clauses.append(Activity.created_at >= query["modified_after"])  # never edited
    if query.get("postcode"):
        outcode, _, lat, lon = places.parse(query["postcode"], "postcode")
        if query.get("proximity") is None:
            clauses.append(Activity.outcode == outcode)  # held in that postcode district
        else:
            table = matching.outcode_table()
            km = matching.haversine_km(lat, lon, table.lat, table.lon)
            near = np.flatnonzero(km <= query["proximity"] / 1000)
            clauses.append(Activity.outcode.in_([table.outcodes[i] for i in near]))
    return clauses


def _agency_of_organization(session: Session, query: dict[str, Any]) -> str | None:
    """The agency published under ``organization_id`` (UUIDv5s of its id; a few agencies
    an area, so computed here rather than stored)."""
    wanted = query["organization_id"].strip().lower()
    agencies = session.scalars(select(Agency.id))
    return next((a for a in agencies if oruk_uuid("organization", a) == wanted), None)


def _activity_by_public_id(session: Session, public_id: str) -> tuple[Activity, Agency] | None:
    """Our id (``act_...``) or the UUID we publish (matched over activity ids: no stored
    column yet, fine at the hundreds of activities an area has)."""
    wanted = public_id.strip().lower()
    activity_id = public_id
    if not public_id.startswith("act_"):
        activity_id = next(
            (a for a in session.scalars(select(Activity.id)) if activity_uuid(a) == wanted), ""
        )
    row = session.execute(
        select(Activity, Agency)
        .join(Agency, Agency.id == Activity.agency_id)
        .where(Activity.id == activity_id)
    ).first()
    return (row[0], row[1]) if row else None


def activity_service(
    activity: Activity, agency: Agency, base_url: str, shape: str
) -> dict[str, Any]:
    """An activity as an ORUK service: ``minimal``, ``list`` item or ``full`` (nested)."""
    service_id = activity_uuid(activity.id)
    place = activity.venue or f"postcode district {activity.outcode}"
    description = f"{activity.name}, run by {activity.organiser} at {place}."
    if activity.accessibility_notes:
        description += f" Access: {activity.accessibility_notes}"
    service: dict[str, Any] = {
        "id": service_id,
        "name": activity.name,
        "status": "active",
        "url": f"{base_url}/oruk/services/{service_id}",
        "last_modified": _utc(activity.created_at),
    }
    if shape == "minimal":
        return service
    organization = {
        "id": oruk_uuid("organization", agency.id),
        "name": agency.name,
        "description": f"{agency.name}: an introductory agency publishing community activities.",
    }
    service.update(
        organization_id=organization["id"],
        description=description,
        fees=f"£{activity.cost_pence / 100:.2f} per session" if activity.cost_pence else "Free",
        organization=organization,
    )
    if shape != "full":
        return service
    location = {
        "id": oruk_uuid("location", f"activity/{activity.id}"),
        "name": activity.venue or f"Postcode district {activity.outcode}",
        "description": f"In postcode district {activity.outcode} "
        "(the point is the district's centre).",
        "latitude": round(activity.lat, 5),
        "longitude": round(activity.lon, 5),
        "location_type": "physical",
    }
    service.update(
        schedules=weekly_schedules(
            windows_to_mask(activity.schedule, "schedule"), activity.id, service_id, "Sessions"
        ),
        service_areas=[
            {
                "id": oruk_uuid("service_area", activity.id),
                "service_id": service_id,
                "name": f"Postcode district {activity.outcode}",
                "service_area": f"Postcode district {activity.outcode}",
            }
        ],
        service_at_locations=[
            {
                "id": sal_uuid(service_id),
                "service_id": service_id,
                "location_id": location["id"],
                "location": location,
            }
        ],
        cost_options=[
            {
                "id": oruk_uuid("cost_option", activity.id),
                "service_id": service_id,
                "option": "Per session",
                "amount": activity.cost_pence / 100,
                "amount_description": "per session",
                "currency": "GBP",
            }
        ],
        attributes=[
            {
                "id": oruk_uuid("attribute", f"{activity.id}/{code}"),
                "link_id": service_id,
                "link_type": "activity_interest",
                "link_entity": "service",
                "taxonomy_term_id": interest_term(code)["id"],
                "taxonomy_term": interest_term(code),
            }
            for code in activity.interests
            if code in INTERESTS
        ],
    )
    return service
