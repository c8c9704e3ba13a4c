"""The demo's outcomes, equality monitoring and community activities (issue 20).

Runs after :mod:`agency.demo_history`, on the seekers and arrangements it made, so the
outcomes and equal-access charts show real figures: each seeker gives consent to the three
purposes (a new consent version), about four in five answer the equality questions, every
arrangement gets a baseline at its start and a first review yesterday (scores drawn to
improve a little on average, anxiety to fall), and each agency publishes a few activities,
with some referrals and a week of attendance. Rows are written directly: these are demo
answers, and the services' rules (consent, ranges) hold for them by construction.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.accounts.models import Role, User
from agency.activities.models import INTERESTS, Activity, ActivityAttendance, ActivityReferral
from agency.dates import london_today
from agency.db import utcnow
from agency.directory import places
from agency.directory.models import Agency, Neighbourhood, NeighbourhoodOutcode
from agency.equality.models import CHARACTERISTICS, EqualityMonitoring
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.outcomes.models import MEASURES, Occasion, RecordedBy, WellbeingAssessment
from agency.seekers.models import CareRequest, CareSeeker, Consent
from agency.unit_of_work import unit_of_work

PURPOSES = ["introductions", "share_with_providers", "outcomes", "equality_monitoring", "community"]
ACTIVITIES = [
    ("Lunch club", ["food_lunch_club", "conversation_cafe"], 350, 1, "12:00", "14:00"),
    ("Walking group", ["walking_outdoors", "exercise_movement"], 0, 3, "10:00", "11:30"),
    ("Digital drop-in", ["digital_skills"], 0, 2, "14:00", "16:00"),
    ("Carers' café", ["carers_support", "conversation_cafe"], 150, 4, "10:30", "12:00"),
    ("Singing for the brain", ["music_singing"], 200, 0, "14:00", "15:30"),
]


def _score(rng: random.Random, centre: float) -> int:
    return max(0, min(10, round(rng.gauss(centre, 1.8))))


def _consent(session: Session, seekers: list[CareSeeker]) -> None:
    now = utcnow()
    for seeker in seekers:
        session.add(
            Consent(
                id=new_id("cns"),
                seeker_id=seeker.id,
                terms_version="2026-12",
                purposes=PURPOSES,
                given_at=now - dt.timedelta(minutes=1),
                recorded_at=now,
            )
        )


def _monitoring(session: Session, rng: random.Random, seekers: list[CareSeeker]) -> int:
    answered = 0
    for seeker in seekers:
        if rng.random() > 0.8:
            continue
        answers = {}
        for name, options in CHARACTERISTICS.items():
            members = list(options)
            # Mostly an answer, sometimes "prefer not to say" (the last member), sometimes none.
            roll = rng.random()
            if roll < 0.08:
                answers[name] = None
            elif roll < 0.16:
                answers[name] = members[-1]
            else:
                answers[name] = rng.choice(members[:-1])
        session.add(
            EqualityMonitoring(
                id=new_id("eqm"),
                seeker_id=seeker.id,
                partner_client_id=seeker.partner_client_id,
                **answers,
            )
        )
        answered += 1
    return answered


def _wellbeing(session: Session, rng: random.Random, today: dt.date) -> int:
    arrangements = list(session.scalars(select(Arrangement)))
    for arrangement in arrangements:
        common = {
            "arrangement_id": arrangement.id,
            "seeker_id": arrangement.seeker_id,
            "agency_id": arrangement.agency_id,
            "council_id": arrangement.council_id,
            "partner_client_id": arrangement.partner_client_id,
            "recorded_by": RecordedBy.PARTNER,
        }
        base = {m: _score(rng, 6.5 if m == "anxiety" else 5.0) for m in MEASURES}
        after = {
            m: max(0, min(10, base[m] + round(rng.gauss(-1.0 if m == "anxiety" else 0.8, 1.5))))
            for m in MEASURES
        }
        if rng.random() < 0.1:
            after["happiness"] = None  # every question is optional
        session.add(
            WellbeingAssessment(
                id=new_id("wba"),
                occasion=Occasion.BASELINE,
                assessed_on=arrangement.start_date,
                **common,
                **base,
            )
        )
        if rng.random() < 0.85:
            session.add(
                WellbeingAssessment(
                    id=new_id("wba"),
                    occasion=Occasion.REVIEW,
                    assessed_on=max(arrangement.start_date, today - dt.timedelta(days=1)),
                    **common,
                    **after,
                )
            )
    return len(arrangements)


def _activities(session: Session, rng: random.Random, today: dt.date) -> tuple[int, int]:
    managers = {
        u.agency_id: u.id for u in session.scalars(select(User).where(User.role == Role.MANAGER))
    }
    published = referred = 0
    for agency in session.scalars(select(Agency).order_by(Agency.name)):
        outcodes = list(
            session.scalars(
                select(NeighbourhoodOutcode.outcode)
                .join(Neighbourhood, Neighbourhood.id == NeighbourhoodOutcode.neighbourhood_id)
                .where(Neighbourhood.agency_id == agency.id)
                .order_by(NeighbourhoodOutcode.outcode)
            )
        )
        if not outcodes or agency.id not in managers:
            continue
        seekers = list(
            session.scalars(
                select(CareRequest.seeker_id).where(CareRequest.agency_id == agency.id).distinct()
            )
        )
        for name, interests, cost, weekday, start, end in ACTIVITIES:
            outcode, _sector, lat, lon = places.parse(rng.choice(outcodes), "outcode")
            activity = Activity(
                id=new_id("act"),
                agency_id=agency.id,
                council_id=agency.council_id,
                name=name,
                organiser=f"{outcode} community anchor",
                outcode=outcode,
                venue="Community centre",
                lat=lat,
                lon=lon,
                schedule=[{"weekday": weekday, "start": start, "end": end}],
                accessibility_notes="Step-free access; accessible toilet",
                cost_pence=cost,
                capacity=12,
                interests=sorted(set(interests) & set(INTERESTS)),
            )
            session.add(activity)
            session.flush()
            published += 1
            for seeker_id in rng.sample(seekers, min(3, len(seekers))):
                referral = ActivityReferral(
                    id=new_id("arf"),
                    activity_id=activity.id,
                    seeker_id=seeker_id,
                    agency_id=agency.id,
                    council_id=agency.council_id,
                    partner_client_id=session.get(CareSeeker, seeker_id).partner_client_id,  # type: ignore[union-attr]
                    referred_by=managers[agency.id],
                )
                session.add(referral)
                session.flush()  # no relationship orders the inserts: referral first
                referred += 1
                last = today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
                session.add(
                    ActivityAttendance(
                        id=new_id("att"),
                        referral_id=referral.id,
                        session_date=last,
                        attended=rng.random() < 0.7,
                        recorded_by=managers[agency.id],
                    )
                )
    return published, referred


def add_outcomes(session: Session, seed: int = 20261201) -> list[str]:
    """Consent, equality answers, ONS4 baselines and reviews, activities; summary lines."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today = london_today()
    seekers = list(session.scalars(select(CareSeeker).order_by(CareSeeker.created_at)))
    with unit_of_work(session) as uow:
        _consent(session, seekers)
        answered = _monitoring(session, rng, seekers)
        arrangements = _wellbeing(session, rng, today)
        published, referred = _activities(session, rng, today)
        uow.commit()
    return [
        "",
        f"Outcomes: ONS4 baselines for {arrangements} arrangements (most with a first review),"
        f" equality monitoring from {answered} seekers,",
        f"  {published} community activities with {referred} referrals and last week's attendance.",
    ]
