"""ONS4 answers recorded for an arrangement at its start (baseline) and at reviews.

The four ONS personal well-being questions (Office for National Statistics, Open Government
Licence v3.0), each answered 0-10 and each optional: life satisfaction, worthwhile, happiness
yesterday, anxiety yesterday (for anxiety, lower is better). Scores only: no free text, so the
table has nothing for ``agency.privacy`` to classify; the rows go with the seeker's erasure.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, str_enum, utcnow

MEASURES = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
# For anxiety a fall is an improvement; for the other three a rise.
LOWER_IS_BETTER = frozenset({"anxiety"})


class Occasion(enum.StrEnum):
    BASELINE = "baseline"  # at the start of the arrangement
    REVIEW = "review"  # at a review (6 weeks, then quarterly)


class RecordedBy(enum.StrEnum):
    PARTNER = "partner"
    MANAGER = "manager"
    ADMIN = "admin"


class WellbeingAssessment(IdMixin, Base):
    __tablename__ = "wellbeing_assessments"
    __label__ = "wellbeing assessment"

    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id"), index=True)
    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    occasion: Mapped[Occasion] = mapped_column(str_enum(Occasion))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    life_satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    worthwhile: Mapped[int | None] = mapped_column(SmallInteger)
    happiness: Mapped[int | None] = mapped_column(SmallInteger)
    anxiety: Mapped[int | None] = mapped_column(SmallInteger)
    recorded_by: Mapped[RecordedBy] = mapped_column(str_enum(RecordedBy))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
        )
