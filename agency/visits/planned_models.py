"""Planned visits (what should happen, from an arrangement's schedule) and rota feeds.

A planned visit is one occurrence of the arrangement's weekly schedule, in Europe/London
wall time (``date``, ``start_time``, ``end_time``) with the UTC instants it stands for.
It is planned, then done (a logged visit matched it), missed (nothing logged in time) or
cancelled in advance by the provider. See docs/continuity.md.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow
from agency.visits.models import _ArrangementParties


class PlannedStatus(enum.StrEnum):
    PLANNED = "planned"  # due, nothing logged yet
    DONE = "done"  # a logged visit matched it
    MISSED = "missed"  # nothing logged a while after its window ended
    CANCELLED = "cancelled"  # the provider cancelled it in advance, with a reason


class CoverStatus(enum.StrEnum):
    OFFERED = "offered"  # the manager chose a cover provider; they have not answered
    ACCEPTED = "accepted"  # the cover provider will make the visit
    DECLINED = "declined"  # the cover provider cannot; the manager may offer another


MISSED_OPEN = "status = 'missed' AND acknowledged_at IS NULL"  # the partial index's rows


class PlannedVisit(_ArrangementParties, IdMixin, TimestampMixin, Base):
    __tablename__ = "planned_visits"
    # Every list reads one owner's visits by ``starts_at`` (dates become a starts_at range:
    # agency.visits.continuity.on_or_after), so each owner column leads an index with it;
    # ``date`` has none. The agency's two serve its lists and reports, with a status filter
    # (the missed list, cancelled visits needing cover) or without (migration 0027).
    __table_args__ = (
        UniqueConstraint("arrangement_id", "starts_at", name="uq_planned_visits_arrangement_start"),
        Index("ix_planned_visits_provider_starts_at", "provider_id", "starts_at"),
        Index("ix_planned_visits_cover_provider_starts_at", "cover_provider_id", "starts_at"),
        Index("ix_planned_visits_seeker_starts_at", "seeker_id", "starts_at"),
        Index("ix_planned_visits_agency_starts_at", "agency_id", "starts_at"),
        Index("ix_planned_visits_agency_status_starts_at", "agency_id", "status", "starts_at"),
        Index("ix_planned_visits_status_ends_at", "status", "ends_at"),
        # The missed list (status=missed&unacknowledged=true): only the missed visits still
        # waiting for a manager are in it, so a page reads its own rows, not the agency's
        # whole acknowledged history first (migration 0030).
        Index(
            "ix_planned_visits_agency_missed_open",
            "agency_id",
            "starts_at",
            postgresql_where=text(MISSED_OPEN),
            sqlite_where=text(MISSED_OPEN),
        ),
    )
    __label__ = "planned visit"

    # Each leads an index above, so none is indexed alone as the mixin's columns are (a lone
    # provider_id index tempted the planner to read a provider's whole history).
    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"))
    terms_version: Mapped[int]  # the arrangement version whose schedule planned it
    date: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", Europe/London
    end_time: Mapped[str] = mapped_column(String(5))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    minutes: Mapped[int]
    status: Mapped[PlannedStatus] = mapped_column(
        str_enum(PlannedStatus), default=PlannedStatus.PLANNED
    )
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"), index=True)
    missed_at: Mapped[dt.datetime | None]
    # The manager worked through it on the missed list (called the family, arranged cover).
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(40))
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Cover while the provider is away or has cancelled (agency.visits.cover).
    cover_provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    cover_status: Mapped[CoverStatus | None] = mapped_column(str_enum(CoverStatus))
    cover_offered_by: Mapped[str | None] = mapped_column(String(40))
    cover_answered_at: Mapped[dt.datetime | None]
    # The cover provider's hourly rate per service of the arrangement, fixed at the offer:
    # a cover visit is invoiced at these (agency.visits.pricing).
    cover_rates_pence: Mapped[dict[str, int] | None] = mapped_column(JSON)


class RotaFeed(IdMixin, Base):
    """A provider's secret calendar URL: only the token's digest is kept; delete to revoke."""

    __tablename__ = "rota_feeds"
    __label__ = "rota feed"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), unique=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        return Scope.of(provider_id=self.provider_id)


class BackupProvider(IdMixin, Base):
    """The provider a seeker (through their partner) names to cover first when theirs is away."""

    __tablename__ = "backup_providers"
    __label__ = "backup provider"

    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), unique=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    set_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TeamMember(IdMixin, Base):
    """A provider on an arrangement's small team (Equal Care's teams): they know the seeker,
    so the cover matcher counts them as continuity."""

    __tablename__ = "arrangement_team_members"
    __table_args__ = (
        UniqueConstraint(
            "arrangement_id", "provider_id", name="uq_arrangement_team_members_member"
        ),
    )
    __label__ = "team member"

    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    added_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
