"""Visits and timesheets. Invoices themselves are agency.isf's ``Invoice``.

A visit keeps the wall-clock times the provider typed (Europe/London) for display
and the UTC instants they stand for, from which its minutes are counted (so a visit
across a clock change is paid for the time actually spent).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.access import Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum
from agency.state_machine import StateMachine


class VisitStatus(enum.StrEnum):
    LOGGED = "logged"  # recorded by the provider, not yet confirmed by the seeker's side
    CONFIRMED = "confirmed"  # the seeker's partner client confirmed it happened
    DISPUTED = "disputed"  # the seeker's partner client says it did not happen as logged


class TimesheetStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the agency manager
    QUERIED = "queried"  # sent back to the provider with a reason
    APPROVED = "approved"  # invoiced; its visits are locked


# A provider's correction sends a visit back to "logged" for the seeker's side to look at
# again; the partner may change its mind until the visit is invoiced.
VISIT_STATES = StateMachine(
    {
        VisitStatus.LOGGED: {VisitStatus.CONFIRMED, VisitStatus.DISPUTED},
        VisitStatus.CONFIRMED: {VisitStatus.DISPUTED, VisitStatus.LOGGED},
        VisitStatus.DISPUTED: {VisitStatus.CONFIRMED, VisitStatus.LOGGED},
    }
)
TIMESHEET_STATES = StateMachine(
    {
        TimesheetStatus.SUBMITTED: {TimesheetStatus.APPROVED, TimesheetStatus.QUERIED},
        TimesheetStatus.QUERIED: {TimesheetStatus.SUBMITTED},  # corrected and resubmitted
        TimesheetStatus.APPROVED: set(),
    }
)


class Flag(enum.StrEnum):
    OUTSIDE_SCHEDULE = "outside_schedule"
    SERVICE_NOT_AGREED = "service_not_agreed"
    OVERLAPS_ANOTHER_VISIT = "overlaps_another_visit"
    UNPLANNED = "unplanned"  # no planned visit matched it (agency.visits.planning)


class _ArrangementParties:
    """Who may see a row belonging to an arrangement (copied from it when created)."""

    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
            provider_id=self.provider_id,
        )


class Timesheet(_ArrangementParties, IdMixin, TimestampMixin, Base):
    __tablename__ = "timesheets"
    __label__ = "timesheet"

    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[TimesheetStatus] = mapped_column(
        str_enum(TimesheetStatus), default=TimesheetStatus.SUBMITTED, index=True
    )
    submitted_at: Mapped[dt.datetime]
    queried_at: Mapped[dt.datetime | None]
    query_reason: Mapped[str | None] = mapped_column(Text)
    # The prompt-payment clock starts here (the invoice's days_to_paid counts from it).
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(40))
    # Derived from the timesheet id and set before the invoice is written, so a retried
    # approval finds the same invoice instead of making a second one.
    invoice_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    visits: Mapped[list[Visit]] = relationship(
        back_populates="timesheet", order_by="(Visit.date, Visit.starts_at)"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Visit(_ArrangementParties, IdMixin, TimestampMixin, Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_provider_starts_at", "provider_id", "starts_at"),)
    __label__ = "visit"

    timesheet_id: Mapped[str | None] = mapped_column(ForeignKey("timesheets.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", Europe/London
    end_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" ("24:00" = midnight)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    minutes: Mapped[int]
    services: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[VisitStatus] = mapped_column(
        str_enum(VisitStatus), default=VisitStatus.LOGGED, index=True
    )
    confirmed_at: Mapped[dt.datetime | None]
    disputed_at: Mapped[dt.datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(40))
    # A cover visit (made for another provider's planned visit): the cover provider's agreed
    # hourly rates, which price it instead of the arrangement's (agency.visits.pricing).
    cover_rates_pence: Mapped[dict[str, int] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    timesheet: Mapped[Timesheet | None] = relationship(back_populates="visits")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
