"""Activities an agency publishes, referrals of seekers to them, and attendance per session.

Places are outcode-level (or a named venue): no street address of anyone. The organiser is a
name (a community anchor organisation), not an account: the agency's manager records
attendance on the organiser's word. Interests come from :data:`INTERESTS`, a small fixed
taxonomy, so suggestions can match them exactly.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, utcnow

INTERESTS = (
    "arts_crafts",
    "music_singing",
    "walking_outdoors",
    "gardening",
    "food_lunch_club",
    "digital_skills",
    "faith_community",
    "exercise_movement",
    "games_quizzes",
    "carers_support",
    "reading_history",
    "conversation_cafe",
)


class Activity(IdMixin, Base):
    __tablename__ = "activities"
    __label__ = "activity"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    organiser: Mapped[str] = mapped_column(String(120))
    outcode: Mapped[str] = mapped_column(String(8))
    venue: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    schedule: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    accessibility_notes: Mapped[str | None] = mapped_column(Text)
    cost_pence: Mapped[int]
    capacity: Mapped[int]
    interests: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class ActivityReferral(IdMixin, Base):
    """A manager referred a seeker to an activity (with the seeker's consent to ``community``)."""

    __tablename__ = "activity_referrals"
    __table_args__ = (UniqueConstraint("activity_id", "seeker_id"),)
    __label__ = "activity referral"

    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"))
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    referred_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
        )


class ActivityAttendance(IdMixin, Base):
    """Whether the referred seeker came to one session (yes or no)."""

    __tablename__ = "activity_attendance"
    __table_args__ = (UniqueConstraint("referral_id", "session_date"),)

    referral_id: Mapped[str] = mapped_column(ForeignKey("activity_referrals.id"), index=True)
    session_date: Mapped[dt.date] = mapped_column(Date)
    attended: Mapped[bool]
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
