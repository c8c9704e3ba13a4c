"""Care requests: create, route to an agency, change, list, withdraw and close.

Routing: postcode -> outcode -> neighbourhood -> agency (agency.directory.places).
A request no agency covers is still stored (agency_id None, status open) and
counts as unmet need; one that is covered gets a match job, enqueued in the
same transaction and dispatched after it commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, case, cast, select
from sqlalchemy.orm import Session

import matching
from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record, snapshot
from agency.db import insert_now
from agency.directory import places
from agency.directory.service import unknown_service_keys
from agency.errors import Forbidden, InvalidInput
from agency.ids import new_id
from agency.jobs.models import JobRecord
from agency.pagination import sort_clause
from agency.providers.models import Provider
from agency.schedule import mask_from_hex, mask_to_hex, mask_to_windows, windows_to_mask
from agency.seekers.exceptions import ConsentRequired, ManagerOnly, VersionConflict
from agency.seekers.lifecycle import EDITABLE_STATUSES, transition_request
from agency.seekers.match_queue import enqueue_match
from agency.seekers.models import CareRequest, RequestStatus, Urgency
from agency.seekers.service import (
    REQUEST_PURPOSE,
    load_for_write,
    requesting_seeker,
    require_not_erased,
    require_partner,
)
from agency.state_machine import IllegalTransition
from agency.unit_of_work import unit_of_work

# Changing any of these changes who can help, so the request is routed and matched again
# (the rate cap and splitting are hard constraints of the matcher too).
REMATCH_FIELDS = frozenset(
    {
        "services",
        "hours_per_week",
        "windows",
        "postcode",
        "preferences",
        "max_rate_pence",
        "allow_split",
    }
)
PLAIN_FIELDS = ("allow_split", "start_date", "urgency", "funding", "max_rate_pence", "notes")

_URGENCY_RANK = case(
    {Urgency.ROUTINE.value: 0, Urgency.SOON.value: 1, Urgency.HOSPITAL_DISCHARGE.value: 2},
    value=CareRequest.urgency,
)
SORTS = {
    "created_at": CareRequest.created_at,
    "start_date": CareRequest.start_date,
    "urgency": _URGENCY_RANK,  # ascending: routine first; -urgency: most urgent first
}


def create_care_request(
    session: Session,
    principal: Principal,
    seeker_id: str,
    fields: dict[str, Any],
    seeker_read: tuple[Any, ...] | None = None,
) -> tuple[CareRequest, JobRecord | None]:
    """Store a care request for a consenting seeker, route it, and queue its match job.

    ``seeker_read``: the seeker's row already read with the caller's credential
    (``seekers.service.requesting_seeker_read``); used when no postcode was given.
    """
    postcode = fields.get("postcode")
    seeker = requesting_seeker(
        session,
        principal,
        seeker_id,
        _outcode_or_none(postcode),
        None if postcode else seeker_read,
    )
    if seeker.consent_purposes is None or REQUEST_PURPOSE not in seeker.consent_purposes:
        raise ConsentRequired()
    with unit_of_work(session) as uow:
        care_request = CareRequest(
            id=new_id("req"), seeker_id=seeker.id, partner_client_id=seeker.partner_client_id
        )
        for name in PLAIN_FIELDS:
            setattr(care_request, name, fields.get(name))
        _set_need(session, care_request, fields)
        _route(session, care_request, postcode or seeker.outcode or "", seeker.route)
        if not postcode:
            care_request.sector = seeker.sector
        # The request's row goes in now (no ORM flush: the hot path), with its job's if any.
        job = None
        if care_request.agency_id:
            job = enqueue_match(session, care_request, new_request=True)
        else:
            insert_now(session, care_request)
        record(
            session,
            principal,
            "care_request.created",
            care_request,
            None,
            snapshot(care_request, AUDITED_FIELDS),
        )
        uow.commit()
    return care_request, job


def care_requests_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """The requests a principal may see, filtered and sorted (a query for page_of)."""
    if principal.kind is Kind.PROVIDER:
        raise Forbidden("Providers see care requests through their introductions.")
    stmt = select(CareRequest).where(visible_to(CareRequest, principal))
    for name in ("status", "urgency", "funding", "neighbourhood_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(CareRequest, name) == filters[name])
    if filters.get("service"):
        # services is a JSON list of keys; a quoted key is found in its text on every backend.
        needle = f'"{filters["service"]}"'
        stmt = stmt.where(cast(CareRequest.services, String).contains(needle, autoescape=True))
    if filters.get("unrouted") is not None:
        unrouted = CareRequest.agency_id.is_(None)
        stmt = stmt.where(unrouted if filters["unrouted"] else ~unrouted)
    order = sort_clause(filters.get("sort"), SORTS, "-created_at")
    return stmt.order_by(*order, CareRequest.id)


def get_care_request(session: Session, principal: Principal, request_id: str) -> CareRequest:
    """Read one request: its partner, its agency's managers, its council's auditors."""
    return load(session, principal, CareRequest, request_id, Action.READ)


def change_care_request(
    session: Session,
    principal: Principal,
    request_id: str,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> tuple[CareRequest, JobRecord | None]:
    """Change an open or matching request; what affects matching re-routes and re-matches.

    ``expected_version`` (If-Match or the body's ``version``) guards against
    overwriting a change the caller has not seen: 409 ``version_conflict``.
    """
    care_request = _writable_request(session, principal, request_id)
    if expected_version is not None and expected_version != care_request.version:
        raise _version_conflict(care_request.version)
    if care_request.status not in EDITABLE_STATUSES:
        raise IllegalTransition(
            f"A care request that is {care_request.status.value} can no longer be changed.",
            current_status=care_request.status.value,
        )
    with unit_of_work(session, stale_data=lambda: _version_conflict(None)) as uow:
        before = snapshot(care_request, AUDITED_FIELDS)
        for name in PLAIN_FIELDS:
            if name in changes:
                setattr(care_request, name, changes[name])
        job = None
        if REMATCH_FIELDS & changes.keys():
            _set_need(session, care_request, changes)
            if "postcode" in changes:
                _route(session, care_request, changes["postcode"])
            else:  # the same place, but neighbourhoods may have moved between agencies since
                sector = care_request.sector
                _route(session, care_request, care_request.outcode)
                care_request.sector = sector
            job = enqueue_match(session, care_request) if care_request.agency_id else None
        record(
            session,
            principal,
            "care_request.changed",
            care_request,
            before,
            snapshot(care_request, AUDITED_FIELDS),
        )
        uow.commit()
    return care_request, job


def withdraw_care_request(
    session: Session, principal: Principal, request_id: str, reason: str
) -> CareRequest:
    """The partner withdraws a request that is open, matching or matched."""
    care_request = _writable_request(session, principal, request_id)
    with unit_of_work(session) as uow:
        before = care_request.status.value
        transition_request(session, care_request, RequestStatus.WITHDRAWN, reason)
        _record_status(session, principal, care_request, before, reason)
        uow.commit()
    return care_request


def close_care_request(
    session: Session, principal: Principal, request_id: str, reason: str
) -> CareRequest:
    """The agency's manager closes a matched request (support arranged and under way)."""
    care_request = load_for_write(session, principal, CareRequest, request_id)
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise ManagerOnly("Only the agency's managers close care requests.")
    with unit_of_work(session) as uow:
        before = care_request.status.value
        transition_request(session, care_request, RequestStatus.CLOSED, reason)
        _record_status(session, principal, care_request, before, reason)
        uow.commit()
    return care_request


AUDITED_FIELDS = (
    "status",
    "services",
    "minutes_per_week",
    "windows",
    "allow_split",
    "start_date",
    "urgency",
    "funding",
    "max_rate_pence",
    "outcode",
    "agency_id",
    "neighbourhood_id",
)


def _record_status(
    session: Session, principal: Principal, care_request: CareRequest, before: str, reason: str
) -> None:
    record(
        session,
        principal,
        "care_request.status_changed",
        care_request,
        {"status": before},
        {"status": care_request.status.value, "reason": reason},
    )


def _writable_request(session: Session, principal: Principal, request_id: str) -> CareRequest:
    care_request = load_for_write(session, principal, CareRequest, request_id)
    require_partner(principal, "care request")
    require_not_erased(care_request.seeker)
    return care_request


def _set_need(session: Session, care_request: CareRequest, fields: dict[str, Any]) -> None:
    """Services, hours, windows and preferences, checked against each other and the taxonomy."""
    if "services" in fields:
        unknown = unknown_service_keys(session, fields["services"])
        if unknown:
            raise InvalidInput(
                errors={"services": [f"Unknown service types: {', '.join(unknown)}."]}
            )
        care_request.services = list(fields["services"])
    if "windows" in fields:
        mask = windows_to_mask(fields["windows"], "windows")
        care_request.windows = mask_to_windows(mask)  # overlapping windows merged
        care_request.windows_mask = mask_to_hex(mask)
    if "hours_per_week" in fields:
        care_request.minutes_per_week = round(fields["hours_per_week"] * 60)
    if "preferences" in fields:
        care_request.preferences = _checked_preferences(session, fields["preferences"])
    available = matching.mask_minutes(mask_from_hex(care_request.windows_mask))
    if care_request.minutes_per_week > available:
        raise InvalidInput(
            errors={
                "hours_per_week": [
                    f"{care_request.minutes_per_week / 60:g} hours do not fit in the windows "
                    f"given ({available / 60:g} hours a week)."
                ]
            }
        )


def _checked_preferences(session: Session, preferences: dict[str, Any]) -> dict[str, Any]:
    known = list(dict.fromkeys(preferences.get("known_provider_ids") or []))
    if known:
        found = set(session.scalars(select(Provider.id).where(Provider.id.in_(known))))
        missing = [p for p in known if p not in found]
        if missing:
            raise InvalidInput(
                errors={"preferences": {"known_provider_ids": [f"No provider {missing[0]}."]}}
            )
    return {**preferences, "known_provider_ids": known}


def _outcode_or_none(postcode: str | None) -> str | None:
    """The outcode to route by, read with the seeker; None: the seeker's own (or no postcode
    given), and an unusable postcode is refused when the request is routed, after the
    seeker's own checks (404, 409) and the need's, as before."""
    if not postcode:
        return None
    try:
        return places.parse(postcode)[0]
    except InvalidInput:
        return None


def _route(
    session: Session,
    care_request: CareRequest,
    postcode: str,
    read: tuple[str | None, ...] | None = None,
) -> None:
    place = places.locate(session, postcode, read=read)
    care_request.outcode = place.outcode
    care_request.sector = place.sector
    care_request.lat = place.lat
    care_request.lon = place.lon
    care_request.neighbourhood_id = place.neighbourhood_id
    care_request.agency_id = place.agency_id
    # The request answers to the council of the agency that covers it (None when uncovered).
    care_request.council_id = place.agency_council_id if place.agency_id else None


def _version_conflict(current: int | None) -> VersionConflict:
    return VersionConflict(**({"current_version": current} if current is not None else {}))
