"""A provider's rota as an iCalendar feed (RFC 5545), written by hand.

No iCalendar library is locked and a feed of single events needs little: each planned
visit is one VEVENT in UTC (``...Z``), so no VTIMEZONE is needed and a phone shows it in
its own zone; cancelled visits stay in the feed with ``STATUS:CANCELLED`` so the phone
removes them. Events carry no seeker's name or address (a phone calendar syncs to
third parties): the summary names the arrangement only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from agency.visits.planned_models import PlannedStatus, PlannedVisit

PRODID = "-//Introductory agency//Rota//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, start = [], 0
    while start < len(raw):
        width = 75 if start == 0 else 74
        end = min(start + width, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(raw[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def rota_calendar(visits: Iterable[PlannedVisit], now: dt.datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Rota",
    ]
    for visit in visits:
        status = "CANCELLED" if visit.status is PlannedStatus.CANCELLED else "CONFIRMED"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{visit.id}@agency",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(visit.starts_at)}",
            f"DTEND:{_stamp(visit.ends_at)}",
            f"SUMMARY:{_escape(f'Visit ({visit.arrangement_id})')}",
            f"STATUS:{status}",
            f"X-AGENCY-VISIT-STATUS:{visit.status.value}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
