"""Planning visits from an arrangement's schedule, for a rolling horizon.

Each version of the terms holds weekly windows and minutes per week. The minutes are
spread over the windows (:func:`weekly_plan`), each visit starting when its window
starts; each visit recurs weekly as an RFC 5545 rule (``FREQ=WEEKLY;BYDAY=..``,
expanded by python-dateutil) from the version's ``effective_from`` until the next
version takes over. Dates and times are Europe/London wall time: a 09:00 visit is at
09:00 in London all year, so its UTC instant moves by an hour across a clock change.

:func:`plan_arrangement` reconciles the stored rows with that plan from now on: future
rows still ``planned`` that the terms no longer call for go, missing ones are added;
past rows, done, missed and cancelled ones are never touched. It runs when the terms
or the status change and hourly (the horizon moves forward a day at a time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from agency.dates import LONDON
from agency.db import utcnow
from agency.ids import new_id
from agency.introductions.models import Arrangement, ArrangementStatus, ArrangementVersion
from agency.jobs.models import JobRecord
from agency.jobs.queue import job
from agency.unit_of_work import unit_of_work
from agency.visits.models import Flag, Visit
from agency.visits.planned_models import CoverStatus, PlannedStatus, PlannedVisit
from agency.visits.visit_rules import minutes_of_day, visit_instants

HORIZON_DAYS = 28
PLAN_JOB = "visits.plan_horizon"
# A logged visit matches a planned one on the same day starting within this of it.
MATCH_TOLERANCE = dt.timedelta(minutes=60)
# A planned visit lies inside one London day (a schedule window ends by 24:00 of the day it
# starts, and weekly_plan never runs past its window), and the longest London day is 25
# hours (the autumn clock change): no planned visit lasts longer than this.
LONGEST_PLANNED_VISIT = dt.timedelta(hours=25)
UNPLANNED = Flag.UNPLANNED.value
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekly_plan(
    schedule: Iterable[dict[str, Any]], minutes_per_week: int
) -> list[tuple[int, str, str]]:
    """(weekday, start, end) of each weekly visit: the minutes spread evenly over the
    windows (a short window gets all it can hold, the rest share the remainder), in
    multiples of 5 minutes, each visit starting at its window's start."""
    windows = sorted((int(w["weekday"]), str(w["start"]), str(w["end"])) for w in schedule)
    lengths = [minutes_of_day(e) - minutes_of_day(s) for _, s, e in windows]
    given = [0] * len(windows)
    remaining = max(0, int(minutes_per_week))
    order = sorted(range(len(windows)), key=lambda i: (lengths[i], i))
    for n, i in enumerate(order):
        left = len(order) - n
        share = remaining if left == 1 else (remaining // left) // 5 * 5
        given[i] = max(0, min(lengths[i], share))
        remaining -= given[i]
    return [
        (day, start, clock(minutes_of_day(start) + given[i]))
        for i, (day, start, _end) in enumerate(windows)
        if given[i] > 0
    ]


def weekly_rule(weekday: int, first: dt.date, last: dt.date) -> str:
    """The RFC 5545 recurrence of one weekly visit between two dates (inclusive)."""
    return (
        f"DTSTART:{first:%Y%m%d}T000000\n"
        f"RRULE:FREQ=WEEKLY;BYDAY={_BYDAY[weekday]};UNTIL={last:%Y%m%d}T000000"
    )


def _segments(
    versions: Sequence[ArrangementVersion],
) -> Iterator[tuple[ArrangementVersion, dt.date, dt.date | None]]:
    """Each version with the dates it governs: [effective_from, next one's) (None: open)."""
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version))
    for i, version in enumerate(ordered):
        after = ordered[i + 1].effective_from if i + 1 < len(ordered) else None
        if after is None or after > version.effective_from:
            yield version, version.effective_from, after


def occurrences(
    versions: Sequence[ArrangementVersion], first: dt.date, last: dt.date
) -> list[tuple[dt.date, str, str, int]]:
    """(date, start, end, version) of every planned visit from ``first`` to ``last``."""
    found = []
    for version, begins, ends in _segments(versions):
        lo = max(begins, first)
        hi = min(last, ends - dt.timedelta(days=1)) if ends else last
        if lo > hi:
            continue
        for weekday, start, end in weekly_plan(version.schedule, version.minutes_per_week):
            rule = rrulestr(weekly_rule(weekday, lo, hi))
            found.extend((day.date(), start, end, version.version) for day in rule)
    return sorted(found)


def plan_arrangement(
    session: Session,
    arrangement: Arrangement,
    *,
    now: dt.datetime | None = None,
    horizon_days: int = HORIZON_DAYS,
) -> dict[str, int]:
    """Bring the arrangement's future planned visits in line with its terms and status
    (in the caller's transaction). Returns how many rows were added, moved and removed."""
    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    wanted: dict[dt.datetime, tuple[dt.date, str, str, dt.datetime, int]] = {}
    if arrangement.status is ArrangementStatus.ACTIVE:
        first = max(today, arrangement.start_date)
        last = today + dt.timedelta(days=horizon_days - 1)
        for date, start, end, version in occurrences(arrangement.versions, first, last):
            starts_at, ends_at = visit_instants(date, start, end)
            if starts_at > now:
                wanted[starts_at] = (date, start, end, ends_at, version)
    stored = session.scalars(
        select(PlannedVisit).where(
            PlannedVisit.arrangement_id == arrangement.id, PlannedVisit.starts_at > now
        )
    ).all()
    counts = {"added": 0, "changed": 0, "removed": 0}
    have = set()
    for row in stored:
        have.add(row.starts_at)
        if row.status is not PlannedStatus.PLANNED:
            continue  # cancelled (or done early) rows are history: kept as they are
        plan = wanted.get(row.starts_at)
        if plan is None:
            session.delete(row)
            counts["removed"] += 1
        elif (row.end_time, row.terms_version) != (plan[2], plan[4]):
            row.end_time, row.ends_at, row.terms_version = plan[2], plan[3], plan[4]
            row.minutes = int((plan[3] - row.starts_at).total_seconds() // 60)
            counts["changed"] += 1
    for starts_at, (date, start, end, ends_at, version) in sorted(wanted.items()):
        if starts_at in have:
            continue
        session.add(
            PlannedVisit(
                id=new_id("pvs"),
                arrangement_id=arrangement.id,
                provider_id=arrangement.provider_id,
                agency_id=arrangement.agency_id,
                council_id=arrangement.council_id,
                partner_client_id=arrangement.partner_client_id,
                seeker_id=arrangement.seeker_id,
                terms_version=version,
                date=date,
                start_time=start,
                end_time=end,
                starts_at=starts_at,
                ends_at=ends_at,
                minutes=int((ends_at - starts_at).total_seconds() // 60),
                status=PlannedStatus.PLANNED,
            )
        )
        counts["added"] += 1
    session.flush()
    return counts


def plan_all(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Plan every arrangement that is active or still has future planned visits (each one
    locked and committed on its own, so a change of terms meanwhile waits, then wins)."""
    now = now or utcnow()
    future = select(PlannedVisit.arrangement_id).where(
        PlannedVisit.status == PlannedStatus.PLANNED, PlannedVisit.starts_at > now
    )
    ids = session.scalars(
        select(Arrangement.id)
        .where(or_(Arrangement.status == ArrangementStatus.ACTIVE, Arrangement.id.in_(future)))
        .order_by(Arrangement.id)
    ).all()
    session.rollback()
    totals = {"arrangements": 0, "added": 0, "changed": 0, "removed": 0}
    for arrangement_id in ids:
        with unit_of_work(session) as uow:
            arrangement = session.scalar(
                select(Arrangement)
                .where(Arrangement.id == arrangement_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if arrangement is None:
                continue
            for key, value in plan_arrangement(session, arrangement, now=now).items():
                totals[key] += value
            totals["arrangements"] += 1
            uow.commit()
    return totals


@job(PLAN_JOB)
def plan_horizon(session: Session, record: JobRecord, *, settings: Any) -> dict[str, Any]:
    """Extend every live arrangement's planned visits to the rolling horizon."""
    return plan_all(session)


def link_logged_visit(session: Session, visit: Visit) -> PlannedVisit | None:
    """Match a logged visit to the planned visit of the same day whose start is nearest
    (within the tolerance); otherwise flag it ``unplanned`` when planning covers that day.
    Call after the visit's fields and flags are set (in the caller's transaction)."""
    unlink_logged_visit(session, visit)
    covered = PlannedVisit.cover_status == CoverStatus.ACCEPTED
    not_covered = or_(PlannedVisit.cover_status.is_(None), ~covered)
    candidates = session.scalars(
        select(PlannedVisit).where(
            PlannedVisit.arrangement_id == visit.arrangement_id,
            # Starting within the tolerance (both bounds included), as a range the
            # (arrangement_id, starts_at) index reads; the same London date is still
            # required (a visit at 00:15 does not match the day before's 23:30).
            PlannedVisit.starts_at >= visit.starts_at - MATCH_TOLERANCE,
            PlannedVisit.starts_at <= visit.starts_at + MATCH_TOLERANCE,
            PlannedVisit.date == visit.date,
            PlannedVisit.visit_id.is_(None),
            PlannedVisit.status.in_((PlannedStatus.PLANNED, PlannedStatus.MISSED)),
            # A visit with accepted cover is matched only by the cover provider's visit.
            or_(
                and_(PlannedVisit.provider_id == visit.provider_id, not_covered),
                and_(covered, PlannedVisit.cover_provider_id == visit.provider_id),
            ),
        )
    ).all()
    flags = set(visit.flags or []) - {UNPLANNED}
    match = min(candidates, key=lambda p: (abs(p.starts_at - visit.starts_at), p.id), default=None)
    if match is not None:
        match.visit_id, match.status = visit.id, PlannedStatus.DONE
    elif _planning_covers(session, visit):
        flags.add(UNPLANNED)
    if sorted(flags) != list(visit.flags or []):
        visit.flags = sorted(flags)
    return match


def unlink_logged_visit(session: Session, visit: Visit) -> None:
    """The planned visit this visit matched is due again (or missed, if its time passed)."""
    for planned in session.scalars(select(PlannedVisit).where(PlannedVisit.visit_id == visit.id)):
        planned.visit_id = None
        planned.status = (
            PlannedStatus.MISSED if planned.missed_at is not None else PlannedStatus.PLANNED
        )
    session.flush()


def _planning_covers(session: Session, visit: Visit) -> bool:
    """Days before the arrangement's first planned visit were never planned: not judged."""
    # The earliest start is on the earliest London date (a later instant is never on an
    # earlier day), and the (arrangement_id, starts_at) unique index hands it over first;
    # ordering by ``date`` would sort every planned visit of the arrangement.
    first = session.scalar(
        select(PlannedVisit.date)
        .where(PlannedVisit.arrangement_id == visit.arrangement_id)
        .order_by(PlannedVisit.starts_at)
        .limit(1)
    )
    return first is not None and first <= visit.date
