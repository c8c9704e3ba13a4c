"""Invoice lines from visits at the agreed rates: the money rules, in integer pence.

- Each visit is priced at the rates of the arrangement version in force on its date.
- A visit with several agreed services has its minutes split equally between them;
  when the minutes do not divide evenly, the spare minutes go one each to the
  services in the order the arrangement lists them (so 25 minutes over two services
  is 13 + 12). Services the arrangement does not include carry no rate and earn
  nothing; a visit with no agreed service at all cannot be invoiced (409).
- A cover visit (another provider covering a planned visit) is priced at the cover
  provider's rates fixed when the cover was offered (``Visit.cover_rates_pence``), for
  the services the arrangement agreed; it is on the cover provider's own timesheet.
- One line per visit and service: ``minutes * hourly rate / 60`` rounded half up to
  the penny on that line; the invoice total is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agency.errors import Conflict
from agency.introductions.models import ArrangementVersion
from agency.visits.models import Visit
from agency.visits.visit_rules import terms_on


def line_amount(minutes: int, rate_pence: int) -> int:
    """``minutes`` at ``rate_pence`` an hour, rounded half up to a whole penny."""
    return (minutes * rate_pence * 2 + 60) // 120


def split_minutes(minutes: int, services: list[str]) -> list[tuple[str, int]]:
    """Share ``minutes`` equally over ``services``; spare minutes go to the first ones."""
    share, spare = divmod(minutes, len(services))
    return [(service, share + (1 if i < spare else 0)) for i, service in enumerate(services)]


def invoice_lines(
    versions: Iterable[ArrangementVersion], visits: Iterable[Visit]
) -> list[dict[str, Any]]:
    """The invoice lines of a timesheet's visits, oldest visit first."""
    versions = list(versions)
    lines: list[dict[str, Any]] = []
    unbillable: list[str] = []
    for visit in sorted(visits, key=lambda v: (v.starts_at, v.id)):
        terms = terms_on(versions, visit.date)
        agreed = [s for s in terms.services if s in visit.services] if terms else []
        if terms is None or not agreed:
            unbillable.append(visit.id)
            continue
        rates = visit.cover_rates_pence or terms.rates_pence
        agreed = [s for s in agreed if s in rates]
        if not agreed:
            unbillable.append(visit.id)
            continue
        for service, minutes in split_minutes(visit.minutes, agreed):
            rate = int(rates[service])
            lines.append(
                {
                    "visit_id": visit.id,
                    "date": visit.date.isoformat(),
                    "start": visit.start_time,
                    "end": visit.end_time,
                    "service": service,
                    "minutes": minutes,
                    "rate_pence": rate,
                    "terms_version": terms.version,
                    "amount_pence": line_amount(minutes, rate),
                }
            )
    if unbillable:
        raise Conflict(
            "Some visits have no service the arrangement agreed, so no rate to pay them at; "
            "query the timesheet so the provider can correct them.",
            code="service_not_agreed",
            visit_ids=unbillable,
        )
    return lines
