"""Pure rules about one visit: its instants, the terms in force, its flags.

No database here: the service passes the arrangement's versions and the visit's
fields in, and gets plain values back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from agency.dates import LONDON
from agency.dates import london_today as london_today
from agency.introductions.models import ArrangementVersion
from agency.schedule import mask_from_hex
from agency.visits.models import Flag
from matching.availability import SLOT_MINUTES, SLOTS_PER_DAY, slots_of_mask

MAX_VISIT_MINUTES = 12 * 60


def minutes_of_day(text: str) -> int:
    """ "HH:MM" -> minutes after midnight ("24:00" is 1440, an end time)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def visit_instants(date: dt.date, start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of a visit given in Europe/London wall time."""
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=LONDON)
    # Wall-clock arithmetic: adding to an aware datetime keeps the zone and recomputes
    # the offset, so "09:00" stays 09:00 local on the day the clocks change.
    starts = midnight + dt.timedelta(minutes=minutes_of_day(start))
    ends = midnight + dt.timedelta(minutes=minutes_of_day(end))
    return starts.astimezone(dt.UTC), ends.astimezone(dt.UTC)


def terms_on(versions: Iterable[ArrangementVersion], date: dt.date) -> ArrangementVersion | None:
    """The version of the terms in force on ``date`` (the latest one effective by then)."""
    in_force = [v for v in versions if v.effective_from <= date]
    return max(in_force, key=lambda v: (v.effective_from, v.version), default=None)


def outside_schedule(terms: ArrangementVersion, date: dt.date, start: str, end: str) -> bool:
    """True when any 30-minute slot the visit touches is not in the agreed schedule."""
    agreed = set(slots_of_mask(mask_from_hex(terms.schedule_mask)))
    first = minutes_of_day(start) // SLOT_MINUTES
    last = -(-minutes_of_day(end) // SLOT_MINUTES)  # ceiling: a part-slot counts
    base = date.weekday() * SLOTS_PER_DAY
    return any(base + slot not in agreed for slot in range(first, last))


def agreement_flags(
    terms: ArrangementVersion, date: dt.date, start: str, end: str, services: list[str]
) -> set[str]:
    """The flags that depend on the terms alone (overlaps need the other visits)."""
    flags = set()
    if outside_schedule(terms, date, start, end):
        flags.add(Flag.OUTSIDE_SCHEDULE.value)
    if any(service not in terms.services for service in services):
        flags.add(Flag.SERVICE_NOT_AGREED.value)
    return flags
