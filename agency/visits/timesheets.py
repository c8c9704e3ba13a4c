"""Timesheets: a provider submits a period's visits, the agency manager approves or queries.

Approval writes the invoice in the same transaction through
``agency.isf.invoices.approve_invoice`` (which also charges the ISF when the
arrangement is ISF-funded). If that refuses (``insufficient_funds``...), the whole
transaction is rolled back: the timesheet stays submitted and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.directory.models import Agency
from agency.errors import Conflict, DomainError, Forbidden, InvalidInput
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.isf.invoices import approve_invoice
from agency.isf.models import Invoice
from agency.unit_of_work import unit_of_work
from agency.visits.cover import covered_arrangement
from agency.visits.models import TIMESHEET_STATES, Timesheet, TimesheetStatus, Visit, VisitStatus
from agency.visits.pricing import invoice_lines
from agency.visits.visit_rules import LONDON

MAX_PERIOD_DAYS = 31
TS = TimesheetStatus


def _check_period(period_start: dt.date, period_end: dt.date) -> None:
    if period_end < period_start:
        raise InvalidInput(errors={"period_end": ["Must not be before period_start."]})
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(errors={"period_end": [f"A period is at most {MAX_PERIOD_DAYS} days."]})


def _gather(session: Session, timesheet: Timesheet) -> list[Visit]:
    """Put the period's visits that are on no other timesheet onto this one.

    A visit corrected to a date outside the period (while queried) leaves it.
    """
    for visit in list(timesheet.visits):
        if not timesheet.period_start <= visit.date <= timesheet.period_end:
            visit.timesheet = None
    free = session.scalars(
        select(Visit).where(
            Visit.arrangement_id == timesheet.arrangement_id,
            Visit.provider_id == timesheet.provider_id,  # cover visits: the cover provider's
            Visit.date >= timesheet.period_start,
            Visit.date <= timesheet.period_end,
            Visit.timesheet_id.is_(None),
        )
    )
    for visit in free:
        visit.timesheet = timesheet
    if not timesheet.visits:
        raise Conflict(
            "There are no visits in this period that are not already on a timesheet.",
            code="no_visits",
        )
    return timesheet.visits


def _provider_only(principal: Principal) -> None:
    if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
        raise Forbidden("Timesheets are submitted by the arrangement's provider.")


def _manager_only(principal: Principal) -> None:
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("Timesheets are approved or queried by the agency's manager.")


def submit_timesheet(
    session: Session,
    principal: Principal,
    arrangement_id: str,
    period_start: dt.date,
    period_end: dt.date,
) -> Timesheet:
    """Gather the period's visits not yet on a timesheet and submit them for approval.

    A provider who accepted cover on the arrangement submits their own cover visits
    (their timesheet, invoiced to them at their rates against the same ISF).
    """
    with unit_of_work(session) as uow:
        arrangement = covered_arrangement(session, principal, arrangement_id) or load(
            session, principal, Arrangement, arrangement_id, Action.WRITE
        )
        _provider_only(principal)
        provider_id = (
            principal.provider_id if principal.kind is Kind.PROVIDER else arrangement.provider_id
        )
        _check_period(period_start, period_end)
        timesheet = Timesheet(
            id=new_id("tms"),
            arrangement_id=arrangement.id,
            provider_id=provider_id,
            agency_id=arrangement.agency_id,
            council_id=arrangement.council_id,
            partner_client_id=arrangement.partner_client_id,
            period_start=period_start,
            period_end=period_end,
            status=TS.SUBMITTED,
            submitted_at=utcnow(),
        )
        session.add(timesheet)
        visits = _gather(session, timesheet)
        record(
            session,
            principal,
            "timesheet.submitted",
            timesheet,
            None,
            _audit_view(timesheet, visits),
        )
        uow.commit()
        return timesheet


def _load_for_update(session: Session, principal: Principal, timesheet_id: str) -> Timesheet:
    return load(session, principal, Timesheet, timesheet_id, Action.WRITE, for_update=True)


def resubmit_timesheet(session: Session, principal: Principal, timesheet_id: str) -> Timesheet:
    """Send a corrected, queried timesheet back for approval (picking up new visits too)."""
    with unit_of_work(session) as uow:
        timesheet = _load_for_update(session, principal, timesheet_id)
        _provider_only(principal)
        TIMESHEET_STATES.move(timesheet, TS.SUBMITTED)
        timesheet.submitted_at = utcnow()
        visits = _gather(session, timesheet)
        record(
            session,
            principal,
            "timesheet.resubmitted",
            timesheet,
            None,
            _audit_view(timesheet, visits),
        )
        uow.commit()
        return timesheet


def query_timesheet(
    session: Session, principal: Principal, timesheet_id: str, reason: str
) -> Timesheet:
    """Send a timesheet back to the provider with a reason."""
    with unit_of_work(session) as uow:
        timesheet = _load_for_update(session, principal, timesheet_id)
        _manager_only(principal)
        TIMESHEET_STATES.move(timesheet, TS.QUERIED)
        timesheet.queried_at, timesheet.query_reason = utcnow(), reason
        record(session, principal, "timesheet.queried", timesheet, None, {"reason": reason})
        uow.commit()
        return timesheet


def invoice_id_for(timesheet: Timesheet) -> str:
    """The one invoice id a timesheet can ever have (its own random part, re-prefixed)."""
    return "inv_" + timesheet.id.split("_", 1)[1]


def next_invoice_number(session: Session, agency: Agency, when: dt.datetime) -> str:
    """INV-<agency short>-<yyyymm>-<seq>, seq counting the agency's invoices that month.

    Two approvals racing for one number collide on the unique column; the loser gets a
    409 version_conflict and simply retries.
    """
    short = re.sub(r"[^A-Z0-9]", "", agency.slug.upper())[:12] or "AGENCY"
    prefix = f"INV-{short}-{when.astimezone(LONDON):%Y%m}-"
    taken = session.scalar(select(func.count()).where(Invoice.number.like(prefix + "%"))) or 0
    return f"{prefix}{taken + 1:04d}"


def approve_timesheet(session: Session, principal: Principal, timesheet_id: str) -> Timesheet:
    """Approve a submitted timesheet and write its invoice (and ISF charge) in one commit."""
    with unit_of_work(session) as uow:
        timesheet = _load_for_update(session, principal, timesheet_id)
        _manager_only(principal)
        TIMESHEET_STATES.move(timesheet, TS.APPROVED)
        disputed = [v.id for v in timesheet.visits if v.status is VisitStatus.DISPUTED]
        if disputed:
            uow.rollback()
            raise Conflict(
                "Disputed visits must be resolved (query the timesheet) before approval.",
                code="visit_disputed",
                visit_ids=disputed,
            )
        arrangement = session.get(Arrangement, timesheet.arrangement_id)
        agency = session.get(Agency, timesheet.agency_id)
        assert arrangement is not None and agency is not None
        try:
            lines = invoice_lines(arrangement.versions, timesheet.visits)
            now = utcnow()
            timesheet.approved_at, timesheet.approved_by = now, principal.id
            timesheet.invoice_id = invoice_id_for(timesheet)
            record(
                session,
                principal,
                "timesheet.approved",
                timesheet,
                None,
                {"invoice_id": timesheet.invoice_id},
            )
            approve_invoice(  # the timesheet, its invoice and the ISF charge: one commit
                session,
                principal,
                arrangement_id=arrangement.id,
                period_start=timesheet.period_start,
                period_end=timesheet.period_end,
                lines=lines,
                total_pence=sum(line["amount_pence"] for line in lines),
                invoice_id=timesheet.invoice_id,
                number=next_invoice_number(session, agency, now),
                provider_id=timesheet.provider_id,  # a cover provider's timesheet pays them
            )
            uow.commit()
        except DomainError:
            uow.rollback()  # nothing of this approval may survive a refusal
            raise
        return timesheet


def get_timesheet(session: Session, principal: Principal, timesheet_id: str) -> Timesheet:
    return load(session, principal, Timesheet, timesheet_id, Action.READ)


def timesheets_of(
    session: Session, principal: Principal, arrangement_id: str, filters: dict[str, Any]
) -> Select[Any]:
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    stmt = select(Timesheet).where(Timesheet.arrangement_id == arrangement.id)
    if principal.kind is Kind.PROVIDER:  # not a cover provider's timesheet on it
        stmt = stmt.where(Timesheet.provider_id == principal.provider_id)
    if filters.get("status"):
        stmt = stmt.where(Timesheet.status == filters["status"])
    return stmt.order_by(Timesheet.period_start.desc(), Timesheet.id)


def _audit_view(timesheet: Timesheet, visits: list[Visit]) -> dict[str, Any]:
    return {
        "status": timesheet.status.value,
        "period_start": timesheet.period_start.isoformat(),
        "period_end": timesheet.period_end.isoformat(),
        "visit_ids": [v.id for v in visits],
    }
