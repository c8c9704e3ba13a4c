"""Dates as the agencies count them: calendar dates in Europe/London.

Care, compliance expiry, time off and visits are UK calendar dates; storage is
UTC. ``london_today`` is the one "today" for the whole project.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_today() -> dt.date:
    """Today in Europe/London (a request made at 00:30 BST is for that day)."""
    return dt.datetime.now(LONDON).date()
