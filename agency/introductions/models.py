"""What the matcher proposed, what a manager introduced, and what both sides agreed."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.access import Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow
from agency.state_machine import StateMachine


class SuggestionStatus(enum.StrEnum):
    ACTIVE = "active"  # the latest ranking for an open request
    SUPERSEDED = "superseded"  # replaced by a later match run
    REJECTED = "rejected"  # a manager set it aside, with a reason
    INTRODUCED = "introduced"  # a manager turned it into an introduction


SUGGESTION_STATES = StateMachine(
    {
        SuggestionStatus.ACTIVE: {
            SuggestionStatus.INTRODUCED,
            SuggestionStatus.REJECTED,
            SuggestionStatus.SUPERSEDED,
        },
        SuggestionStatus.SUPERSEDED: set(),
        SuggestionStatus.REJECTED: set(),
        SuggestionStatus.INTRODUCED: set(),
    }
)


class Suggestion(IdMixin, Base):
    """One ranked candidate for a care request, with the matcher's explanation."""

    __tablename__ = "suggestions"
    __table_args__ = (
        Index("ix_suggestions_request_status", "care_request_id", "status"),
        # The funnel's "first suggestion" per request: one index probe, not a table scan.
        Index("ix_suggestions_request_created", "care_request_id", "created_at"),
    )
    __label__ = "suggestion"

    care_request_id: Mapped[str] = mapped_column(ForeignKey("care_requests.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"))
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    rank: Mapped[int]
    score: Mapped[float]
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    distance_km: Mapped[float | None]
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus), default=SuggestionStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        # Partners see the status of matching, not other people's suggestions' internals.
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class MatchPlan(IdMixin, Base):
    """A batch re-plan of all open requests of an agency: proposals and figures, never actions."""

    __tablename__ = "match_plans"
    __label__ = "match plan"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    placements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class IntroductionStatus(enum.StrEnum):
    AWAITING_PROVIDER = "awaiting_provider"  # approved by the manager, provider to answer
    AWAITING_SEEKER = "awaiting_seeker"  # provider accepted; seeker to confirm after meeting
    CONFIRMED = "confirmed"  # both agreed: an arrangement exists
    PROVIDER_DECLINED = "provider_declined"
    SEEKER_DECLINED = "seeker_declined"
    EXPIRED = "expired"  # the provider did not answer in time
    WITHDRAWN = "withdrawn"  # the manager withdrew it


INTRODUCTION_STATES = StateMachine(
    {
        IntroductionStatus.AWAITING_PROVIDER: {
            IntroductionStatus.AWAITING_SEEKER,
            IntroductionStatus.PROVIDER_DECLINED,
            IntroductionStatus.EXPIRED,
            IntroductionStatus.WITHDRAWN,
        },
        IntroductionStatus.AWAITING_SEEKER: {
            IntroductionStatus.CONFIRMED,
            IntroductionStatus.SEEKER_DECLINED,
            IntroductionStatus.WITHDRAWN,
        },
        IntroductionStatus.CONFIRMED: set(),
        IntroductionStatus.PROVIDER_DECLINED: set(),
        IntroductionStatus.SEEKER_DECLINED: set(),
        IntroductionStatus.EXPIRED: set(),
        IntroductionStatus.WITHDRAWN: set(),
    }
)


class Introduction(IdMixin, TimestampMixin, Base):
    __tablename__ = "introductions"
    __label__ = "introduction"

    care_request_id: Mapped[str] = mapped_column(ForeignKey("care_requests.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    suggestion_id: Mapped[str | None] = mapped_column(ForeignKey("suggestions.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"))
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    status: Mapped[IntroductionStatus] = mapped_column(
        str_enum(IntroductionStatus), default=IntroductionStatus.AWAITING_PROVIDER, index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    # Required when the manager introduces a provider the matcher did not suggest.
    off_list_reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    respond_by: Mapped[dt.datetime]
    provider_responded_at: Mapped[dt.datetime | None]
    seeker_responded_at: Mapped[dt.datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    arrangement: Mapped[Arrangement | None] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
            provider_id=self.provider_id,
        )


class ArrangementStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


ARRANGEMENT_STATES = StateMachine(
    {
        ArrangementStatus.ACTIVE: {ArrangementStatus.PAUSED, ArrangementStatus.ENDED},
        ArrangementStatus.PAUSED: {ArrangementStatus.ACTIVE, ArrangementStatus.ENDED},
        ArrangementStatus.ENDED: set(),
    }
)


class Arrangement(IdMixin, TimestampMixin, Base):
    """The agreed care: who, what, when, at what rate, paid how. Terms live in versions."""

    __tablename__ = "arrangements"
    __label__ = "arrangement"

    introduction_id: Mapped[str] = mapped_column(ForeignKey("introductions.id"), unique=True)
    care_request_id: Mapped[str] = mapped_column(ForeignKey("care_requests.id"), index=True)
    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"))
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    funding: Mapped[str] = mapped_column(String(20))  # agency.seekers.models.Funding value
    # Set for ISF-funded arrangements: the ISF account invoices are paid from (agency.isf).
    isf_account_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[ArrangementStatus] = mapped_column(
        str_enum(ArrangementStatus), default=ArrangementStatus.ACTIVE, index=True
    )
    start_date: Mapped[dt.date] = mapped_column(Date)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    current_version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[ArrangementVersion]] = relationship(
        order_by="ArrangementVersion.version", cascade="all, delete-orphan"
    )

    @property
    def terms(self) -> ArrangementVersion:
        return next(v for v in self.versions if v.version == self.current_version)

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
            provider_id=self.provider_id,
        )


class ArrangementVersion(IdMixin, Base):
    """The terms of an arrangement from a date: a change makes a new version, the old is kept."""

    __tablename__ = "arrangement_versions"

    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"), index=True)
    version: Mapped[int]
    services: Mapped[list[str]] = mapped_column(JSON)
    rates_pence: Mapped[dict[str, int]] = mapped_column(JSON)  # service key -> hourly rate
    minutes_per_week: Mapped[int]
    schedule: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    schedule_mask: Mapped[str] = mapped_column(String(96))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(40))  # principal id
    change_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
