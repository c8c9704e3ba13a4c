"""Logging, correcting, confirming and disputing visits.

A visit outside the agreed schedule or services, or overlapping another visit of the
same provider, is recorded with flags for the manager to see; it is not refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, Forbidden, InvalidInput
from agency.ids import new_id
from agency.introductions.models import Arrangement, ArrangementStatus
from agency.unit_of_work import unit_of_work
from agency.visits import planning, visit_rules
from agency.visits.models import VISIT_STATES, Flag, TimesheetStatus, Visit, VisitStatus

OVERLAP = Flag.OVERLAPS_ANOTHER_VISIT.value


def _checked_times(
    arrangement: Arrangement, fields: dict[str, Any], today: dt.date
) -> tuple[dt.datetime, dt.datetime, Any]:
    """Instants and terms of a visit; 422 naming the field for what a schema cannot see."""
    date = fields["date"]
    if date > today:
        raise InvalidInput(errors={"date": ["A visit cannot be logged for a future date."]})
    terms = visit_rules.terms_on(arrangement.versions, date)
    if date < arrangement.start_date or terms is None:
        raise InvalidInput(errors={"date": ["The arrangement had not started on this date."]})
    starts_at, ends_at = visit_rules.visit_instants(date, fields["start"], fields["end"])
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    if minutes <= 0:
        raise InvalidInput(errors={"end": ["Must be after start."]})
    if minutes > visit_rules.MAX_VISIT_MINUTES:
        raise InvalidInput(errors={"end": ["A visit lasts at most 12 hours."]})
    return starts_at, ends_at, terms


def _apply(visit: Visit, arrangement: Arrangement, fields: dict[str, Any], today: dt.date) -> None:
    starts_at, ends_at, terms = _checked_times(arrangement, fields, today)
    visit.date, visit.start_time, visit.end_time = fields["date"], fields["start"], fields["end"]
    visit.starts_at, visit.ends_at = starts_at, ends_at
    visit.minutes = int((ends_at - starts_at).total_seconds() // 60)
    visit.services = list(dict.fromkeys(fields["services"]))
    visit.notes = fields.get("notes")
    keep = {OVERLAP} & set(visit.flags or [])
    visit.flags = sorted(
        keep
        | visit_rules.agreement_flags(
            terms, visit.date, visit.start_time, visit.end_time, visit.services
        )
    )


def _overlapping(session: Session, visit: Visit) -> list[Visit]:
    """The provider's other visits that share some time with ``visit``."""
    # No visit lasts more than MAX_VISIT_MINUTES of real (UTC) time: _checked_times refuses
    # it, and every visit is stored through it. So one still going when ``visit`` starts
    # began less than that before: the lower bound loses no overlapping visit, and lets the
    # (provider_id, starts_at) index read a few rows instead of the provider's whole history.
    earliest = visit.starts_at - dt.timedelta(minutes=visit_rules.MAX_VISIT_MINUTES)
    return list(
        session.scalars(
            select(Visit).where(
                Visit.provider_id == visit.provider_id,
                Visit.id != visit.id,
                Visit.starts_at > earliest,
                Visit.starts_at < visit.ends_at,
                Visit.ends_at > visit.starts_at,
            )
        )
    )


def _refresh_overlaps(session: Session, visits: list[Visit]) -> None:
    """Set or clear the overlap flag on each visit from the visits now stored."""
    session.flush()
    for visit in {v.id: v for v in visits}.values():
        flags = set(visit.flags or [])
        flags.discard(OVERLAP)
        if _overlapping(session, visit):
            flags.add(OVERLAP)
        if sorted(flags) != list(visit.flags or []):
            visit.flags = sorted(flags)


def _arrangement_for_provider(
    session: Session, principal: Principal, arrangement_id: str
) -> Arrangement:
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
        raise Forbidden("Visits are logged by the arrangement's provider.")
    return arrangement


def add_logged_visit(
    session: Session,
    principal: Principal,
    arrangement: Arrangement,
    fields: dict[str, Any],
    today: dt.date | None,
    *,
    provider_id: str,
    **extra: Any,
) -> Visit:
    """Add a LOGGED visit under an active arrangement (``fields`` as the visit schema loads
    them, ``extra`` further columns) and refresh the overlap flags around it; the caller
    links, audits and commits."""
    if arrangement.status is not ArrangementStatus.ACTIVE:
        raise Conflict(
            f"The arrangement is {arrangement.status.value}; visits are logged while it is active.",
            code="arrangement_not_active",
            current_status=arrangement.status.value,
        )
    visit = Visit(
        id=new_id("vis"),
        arrangement_id=arrangement.id,
        provider_id=provider_id,
        agency_id=arrangement.agency_id,
        council_id=arrangement.council_id,
        partner_client_id=arrangement.partner_client_id,
        status=VisitStatus.LOGGED,
        flags=[],
        created_by=principal.id,
        **extra,
    )
    _apply(visit, arrangement, fields, today or visit_rules.london_today())
    session.add(visit)
    _refresh_overlaps(session, [visit, *_overlapping(session, visit)])
    return visit


def log_visit(
    session: Session,
    principal: Principal,
    arrangement_id: str,
    fields: dict[str, Any],
    *,
    today: dt.date | None = None,
) -> Visit:
    """Record a visit the provider made; flags say where it departs from what was agreed."""
    with unit_of_work(session) as uow:
        arrangement = _arrangement_for_provider(session, principal, arrangement_id)
        visit = add_logged_visit(
            session, principal, arrangement, fields, today, provider_id=arrangement.provider_id
        )
        planning.link_logged_visit(session, visit)
        record(session, principal, "visit.logged", visit, None, _audit_view(visit))
        uow.commit()
        return visit


def _editable(session: Session, principal: Principal, visit_id: str) -> Visit:
    visit = load(session, principal, Visit, visit_id, Action.WRITE)
    if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
        raise Forbidden("Only the provider who logged a visit changes it.")
    timesheet = visit.timesheet
    if timesheet is not None and timesheet.status is not TimesheetStatus.QUERIED:
        raise Conflict(
            f"The visit is on a {timesheet.status.value} timesheet; it can change only while "
            "that timesheet is queried.",
            code="visit_locked",
            current_status=timesheet.status.value,
        )
    return visit


def update_visit(
    session: Session,
    principal: Principal,
    visit_id: str,
    changes: dict[str, Any],
    *,
    today: dt.date | None = None,
) -> Visit:
    """Correct a visit; the seeker's side is asked to look at it again."""
    with unit_of_work(session) as uow:
        visit = _editable(session, principal, visit_id)
        arrangement = session.get(Arrangement, visit.arrangement_id)
        assert arrangement is not None
        before = _audit_view(visit)
        old_neighbours = _overlapping(session, visit)
        current = {
            "date": visit.date,
            "start": visit.start_time,
            "end": visit.end_time,
            "services": visit.services,
            "notes": visit.notes,
        }
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        _apply(visit, arrangement, {**current, **changes}, today or visit_rules.london_today())
        if changed.keys() - {"notes"} and visit.status is not VisitStatus.LOGGED:
            # What the seeker's side answered has changed.
            VISIT_STATES.move(visit, VisitStatus.LOGGED)
        _refresh_overlaps(session, [visit, *old_neighbours, *_overlapping(session, visit)])
        planning.link_logged_visit(session, visit)
        record(session, principal, "visit.corrected", visit, before, _audit_view(visit))
        uow.commit()
        return visit


def delete_visit(session: Session, principal: Principal, visit_id: str) -> None:
    """Remove a visit logged in error (not once its timesheet is submitted or approved)."""
    with unit_of_work(session) as uow:
        visit = _editable(session, principal, visit_id)
        neighbours = _overlapping(session, visit)
        record(session, principal, "visit.deleted", visit, _audit_view(visit), None)
        planning.unlink_logged_visit(session, visit)
        session.delete(visit)
        _refresh_overlaps(session, neighbours)
        uow.commit()


def _answer(session: Session, principal: Principal, visit_id: str, target: VisitStatus) -> Visit:
    visit = load(session, principal, Visit, visit_id, Action.WRITE)
    if principal.kind not in (Kind.PARTNER, Kind.ADMIN):
        raise Forbidden("Visits are confirmed or disputed by the seeker's partner client.")
    if visit.timesheet is not None and visit.timesheet.status is TimesheetStatus.APPROVED:
        raise Conflict(
            "The visit is on an approved timesheet and already invoiced.",
            code="visit_locked",
            current_status=TimesheetStatus.APPROVED.value,
        )
    VISIT_STATES.move(visit, target)
    return visit


def confirm_visit(session: Session, principal: Principal, visit_id: str) -> Visit:
    """The seeker's side confirms the visit happened as logged."""
    with unit_of_work(session) as uow:
        visit = _answer(session, principal, visit_id, VisitStatus.CONFIRMED)
        visit.confirmed_at, visit.disputed_at, visit.dispute_reason = utcnow(), None, None
        record(session, principal, "visit.confirmed", visit, None, {"status": visit.status.value})
        uow.commit()
        return visit


def dispute_visit(session: Session, principal: Principal, visit_id: str, reason: str) -> Visit:
    """The seeker's side says the visit did not happen as logged; it blocks approval."""
    with unit_of_work(session) as uow:
        visit = _answer(session, principal, visit_id, VisitStatus.DISPUTED)
        visit.disputed_at, visit.dispute_reason, visit.confirmed_at = utcnow(), reason, None
        record(
            session,
            principal,
            "visit.disputed",
            visit,
            None,
            {"status": visit.status.value, "reason": reason},
        )
        uow.commit()
        return visit


def get_visit(session: Session, principal: Principal, visit_id: str) -> Visit:
    return load(session, principal, Visit, visit_id, Action.READ)


def visits_of(
    session: Session, principal: Principal, arrangement_id: str, filters: dict[str, Any]
) -> Select[Any]:
    """The visits of one arrangement the principal may see, oldest first."""
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    stmt = select(Visit).where(Visit.arrangement_id == arrangement.id)
    if filters.get("status"):
        stmt = stmt.where(Visit.status == filters["status"])
    if filters.get("date_from"):
        stmt = stmt.where(Visit.date >= filters["date_from"])
    if filters.get("date_to"):
        stmt = stmt.where(Visit.date <= filters["date_to"])
    return stmt.order_by(Visit.date, Visit.starts_at, Visit.id)


def _audit_view(visit: Visit) -> dict[str, Any]:
    # Notes stay out of the audit trail: they may hold personal details.
    return {
        "date": visit.date.isoformat(),
        "start": visit.start_time,
        "end": visit.end_time,
        "services": visit.services,
        "flags": visit.flags,
    }
