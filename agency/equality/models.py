"""Equality monitoring answers: special-category data (UK GDPR art. 9), kept apart.

One row per seeker, in its own table, never joined into the care record's views: no endpoint
returns it, no log line, webhook, export or Open Referral feed carries it, and it is deleted
with the seeker. Every question is optional (None: not answered) and every one offers
"prefer not to say". The categories follow the questions a council's monitoring form asks
about the Equality Act 2010 protected characteristics (ONS 2021 census groupings, shortened).
Enums only: no free text, so nothing for ``agency.privacy`` to classify.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, str_enum, utcnow

PREFER_NOT_TO_SAY = "prefer_not_to_say"


class AgeBand(enum.StrEnum):
    UNDER_25 = "18_24"
    FROM_25 = "25_34"
    FROM_35 = "35_44"
    FROM_45 = "45_54"
    FROM_55 = "55_64"
    FROM_65 = "65_74"
    FROM_75 = "75_84"
    FROM_85 = "85_plus"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class GenderIdentity(enum.StrEnum):
    """Is the gender you identify with the same as your sex registered at birth?"""

    SAME = "same_as_registered"
    DIFFERENT = "different_from_registered"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class EthnicGroup(enum.StrEnum):
    ASIAN = "asian"
    BLACK = "black"
    MIXED = "mixed"
    WHITE = "white"
    OTHER = "other_ethnic_group"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class Disability(enum.StrEnum):
    YES = "disabled"
    NO = "not_disabled"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class Religion(enum.StrEnum):
    NONE = "no_religion"
    CHRISTIAN = "christian"
    BUDDHIST = "buddhist"
    HINDU = "hindu"
    JEWISH = "jewish"
    MUSLIM = "muslim"
    SIKH = "sikh"
    OTHER = "other_religion"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class SexualOrientation(enum.StrEnum):
    HETEROSEXUAL = "heterosexual"
    GAY_OR_LESBIAN = "gay_or_lesbian"
    BISEXUAL = "bisexual"
    OTHER = "other_orientation"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


CHARACTERISTICS: dict[str, type[enum.StrEnum]] = {
    "age_band": AgeBand,
    "sex": Sex,
    "gender_identity": GenderIdentity,
    "ethnic_group": EthnicGroup,
    "disability": Disability,
    "religion": Religion,
    "sexual_orientation": SexualOrientation,
}


class EqualityMonitoring(IdMixin, Base):
    __tablename__ = "equality_monitoring"
    __label__ = "equality monitoring"

    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), unique=True)
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    age_band: Mapped[AgeBand | None] = mapped_column(str_enum(AgeBand))
    sex: Mapped[Sex | None] = mapped_column(str_enum(Sex))
    gender_identity: Mapped[GenderIdentity | None] = mapped_column(str_enum(GenderIdentity))
    ethnic_group: Mapped[EthnicGroup | None] = mapped_column(str_enum(EthnicGroup))
    disability: Mapped[Disability | None] = mapped_column(str_enum(Disability))
    religion: Mapped[Religion | None] = mapped_column(str_enum(Religion))
    sexual_orientation: Mapped[SexualOrientation | None] = mapped_column(
        str_enum(SexualOrientation)
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def access_scope(self) -> Scope:
        return Scope.of(partner_client_id=self.partner_client_id)
