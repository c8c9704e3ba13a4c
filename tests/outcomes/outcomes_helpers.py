"""Builders for the outcomes tests: a seeker with consent to given purposes, answers stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from agency.db import utcnow
from agency.ids import new_id
from agency.outcomes.models import Occasion, RecordedBy, WellbeingAssessment
from agency.outcomes.service import new_assessment
from agency.seekers.models import CareSeeker, Consent


def consent_to(session: Session, seeker: CareSeeker, *purposes: str) -> None:
    """A newer consent version covering ``introductions`` and ``purposes``."""
    seeker.consents.append(
        Consent(
            id=new_id("cns"),
            seeker_id=seeker.id,
            terms_version="2026-11",
            purposes=["introductions", *purposes],
            given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            recorded_at=utcnow(),
        )
    )
    session.commit()


def make_assessment(
    session: Session, arrangement: Any, occasion: Occasion, on: dt.date, **answers: int | None
) -> WellbeingAssessment:
    assessment = new_assessment(arrangement, occasion, on, RecordedBy.MANAGER, **answers)
    session.add(assessment)
    session.commit()
    return assessment
