"""Who a report covers and over which period: filters checked against the principal.

An auditor's reports cover their council's agencies, a manager's their own agency, an
admin's every agency. Filtering on an agency or neighbourhood the principal may not see is
a 404, as for any object they may not know exists. Periods are whole days in Europe/London:
``period_start`` 00:00 to the end of ``period_end``, turned into UTC instants for the queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, allows, visible_to
from agency.db import utcnow
from agency.directory.models import Agency, Council, Neighbourhood, ServiceType
from agency.errors import InvalidInput, NotFound

LONDON = ZoneInfo("Europe/London")
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class ReportScope:
    """The resolved filters of one report run; ``description`` names them for a chart."""

    period_start: dt.date
    period_end: dt.date
    now: dt.datetime
    agency_id: str | None = None
    council_id: str | None = None
    neighbourhood_id: str | None = None
    service: str | None = None
    description: str = "all agencies"

    @property
    def starts_at(self) -> dt.datetime:
        return _london_midnight(self.period_start)

    @property
    def ends_at(self) -> dt.datetime:
        """The first instant after the period (exclusive bound)."""
        return _london_midnight(self.period_end + dt.timedelta(days=1))

    @property
    def period_label(self) -> str:
        return f"{_day(self.period_start)} to {_day(self.period_end)}"

    def owned(self, agency_column: Any, council_column: Any) -> list[Any]:
        """Conditions keeping rows of the agencies in scope (rows carry both ids)."""
        if self.agency_id:
            return [agency_column == self.agency_id]
        if self.council_id:
            return [council_column == self.council_id]
        return []

    def during(self, column: Any) -> list[Any]:
        return [column >= self.starts_at, column < self.ends_at]

    def for_requests(self, request: Any) -> list[Any]:
        """Neighbourhood and service filters on a care request (or an arrangement's request)."""
        conditions = []
        if self.neighbourhood_id:
            conditions.append(request.neighbourhood_id == self.neighbourhood_id)
        if self.service:
            conditions.append(offers(request.services, self.service))
        return conditions

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_start": self.period_start,
            "period_end": self.period_end,
            "agency_id": self.agency_id,
            "council_id": self.council_id,
            "neighbourhood_id": self.neighbourhood_id,
            "service": self.service,
            "description": self.description,
            "generated_at": self.now,
        }


def offers(services_json: Any, service: Any) -> Any:
    """A JSON list of service keys holds ``service`` (a key or a column): portable LIKE.

    Keys are lower-case words from ``service_types``, stored as ``["a", "b"]``, so the
    quoted key is found exactly; the same expression runs on PostgreSQL and SQLite.
    """
    if isinstance(service, str):
        return cast(services_json, Text).contains(f'"{service}"', autoescape=True)
    return cast(services_json, Text).contains('"' + service + '"')


def resolve_scope(
    session: Session,
    principal: Principal,
    *,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    agency_id: str | None = None,
    neighbourhood_id: str | None = None,
    service: str | None = None,
    now: dt.datetime | None = None,
) -> ReportScope:
    """Check the filters against what ``principal`` may see; default to the last 365 days."""
    now = now or utcnow()
    period_end = period_end or now.astimezone(LONDON).date()
    period_start = period_start or period_end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if period_start > period_end:
        raise InvalidInput(errors={"period_end": ["Must not be before period_start."]})
    council_id = principal.council_id if principal.kind is Kind.AUDITOR else None
    if principal.kind is Kind.MANAGER:
        if agency_id and agency_id != principal.agency_id:
            raise NotFound(f"No agency with id {agency_id}.")
        agency_id = principal.agency_id
    parts = [_scope_name(session, agency_id, council_id)]
    if agency_id:
        agency = session.get(Agency, agency_id)
        if agency is None or not allows(principal, Action.READ, agency):
            raise NotFound(f"No agency with id {agency_id}.")
    if neighbourhood_id:
        hood = session.scalar(
            select(Neighbourhood).where(
                Neighbourhood.id == neighbourhood_id, visible_to(Neighbourhood, principal)
            )
        )
        visible = hood is not None and (not agency_id or hood.agency_id == agency_id)
        if not visible:
            raise NotFound(f"No neighbourhood with id {neighbourhood_id}.")
        parts.append(hood.name)  # type: ignore[union-attr]
    if service:
        if session.scalar(select(ServiceType.key).where(ServiceType.key == service)) is None:
            raise InvalidInput(errors={"service": [f"Unknown service {service!r}."]})
        parts.append(f"service: {service}")
    return ReportScope(
        period_start=period_start,
        period_end=period_end,
        now=now,
        agency_id=agency_id,
        council_id=council_id,
        neighbourhood_id=neighbourhood_id,
        service=service,
        description=" · ".join(parts),
    )


def _scope_name(session: Session, agency_id: str | None, council_id: str | None) -> str:
    if agency_id:
        agency = session.get(Agency, agency_id)
        return agency.name if agency else agency_id
    if council_id:
        council = session.get(Council, council_id)
        return f"agencies of {council.name if council else council_id}"
    return "all agencies"


def _london_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(dt.UTC)


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"
