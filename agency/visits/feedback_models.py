"""Feedback after a confirmed visit: the seeker's (through their partner) and the provider's.

Private by design: no ``access_scope`` for the parties. Services decide who reads what
(managers everything of their agency; a provider their own aggregate once there are
enough ratings; nobody else), so a generic permission check can never leak a row.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, str_enum, utcnow
from agency.visits.models import _ArrangementParties


class FeedbackSide(enum.StrEnum):
    SEEKER = "seeker"  # recorded by the seeker's partner client
    PROVIDER = "provider"  # recorded by the visit's provider


class Concern(enum.StrEnum):
    SAFETY = "safety"
    ACCESS = "access"  # could not get in, keys, parking
    SAFEGUARDING = "safeguarding"  # straight to the manager and the audit log


class VisitFeedback(_ArrangementParties, IdMixin, Base):
    __tablename__ = "visit_feedback"
    __table_args__ = (UniqueConstraint("visit_id", "side", name="uq_visit_feedback_visit_side"),)
    __label__ = "visit feedback"

    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    side: Mapped[FeedbackSide] = mapped_column(str_enum(FeedbackSide))
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1-5
    comment: Mapped[str | None] = mapped_column(Text)
    concern: Mapped[Concern | None] = mapped_column(str_enum(Concern))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        # Only the agency's manager (and admins) through the generic check.
        return Scope.of(agency_ids=[self.agency_id])


class ProviderRatingTotal(Base):
    """How many seeker-side ratings a provider has at an agency, and their sum.

    Kept by the database: triggers on ``visit_feedback`` add, take back or move each
    rating in the transaction that writes it (migration ``0025ratingtotals``), so the
    matcher reads one row per rated provider instead of every rating ever given. Only
    aggregates: never a single rating or who gave it. Nothing in the code writes it.
    """

    __tablename__ = "provider_rating_totals"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    ratings: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(BigInteger)
