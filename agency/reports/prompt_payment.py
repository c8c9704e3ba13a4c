"""Prompt payment: whole days from invoice approval to provider paid, and who is waiting.

Paid invoices (``paid_at`` in the period) give ``days_to_paid``: median, 90th percentile
(linear interpolation, as ``percentile_cont``) and worst, read off one histogram of days
grouped in SQL (a few hundred rows however many invoices), per agency and UTC month, per
agency, per month and in total. Invoices approved and still unpaid for more than
``threshold_days`` (now, whatever the period) are listed oldest first, at most 500.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.directory.models import Agency
from agency.isf.models import Invoice, InvoiceStatus
from agency.providers.models import Provider
from agency.reports.local_spend import paid_invoices, with_request_filters
from agency.reports.portable import histogram_figures, month_of
from agency.reports.scope import ReportScope

LISTED = 500


def prompt_payment(session: Session, scope: ReportScope, threshold_days: int = 14) -> dict:  # type: ignore[type-arg]
    """Days to paid per agency and month, and invoices waiting beyond the threshold."""
    # One GROUP BY gives a histogram of days per agency and month; every figure (per agency
    # and month, per agency, per month, overall) is read off it exactly.
    month = month_of(session, Invoice.paid_at)
    stmt = paid_invoices(
        scope, select(Invoice.agency_id, month, Invoice.days_to_paid, func.count())
    ).where(Invoice.days_to_paid.is_not(None))
    histogram = session.execute(stmt.group_by(Invoice.agency_id, month, Invoice.days_to_paid)).all()
    per_agency_month = _figures_by(histogram, lambda r: (r[0], r[1]))
    per_agency = _figures_by(histogram, lambda r: (r[0],))
    per_month = _figures_by(histogram, lambda r: (r[1],))
    overall = _figures_by(histogram, lambda r: ())
    names = dict(
        session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_([k[0] for k in per_agency]))
        ).all()
    )
    return {
        "scope": scope.as_dict(),
        "threshold_days": threshold_days,
        "total": _days(overall.get(())),
        "months": [{"month": k[0], **_days(v)} for k, v in sorted(per_month.items())],
        "agencies": [
            {
                "agency_id": agency_id,
                "agency_name": names.get(agency_id),
                **_days(per_agency[(agency_id,)]),
                "months": [
                    {"month": k[1], **_days(v)}
                    for k, v in sorted(per_agency_month.items())
                    if k[0] == agency_id
                ],
            }
            for (agency_id,) in sorted(per_agency, key=lambda k: names.get(k[0], ""))
        ],
        "overdue": _overdue(session, scope, threshold_days),
    }


def _figures_by(histogram: list[Any], key: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    counts: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in histogram:
        counts[key(row)][int(row[2])] += int(row[3])
    return {k: histogram_figures(sorted(v.items())) for k, v in counts.items()}


def _days(figures: dict[str, Any] | None) -> dict[str, Any]:
    figures = figures or {"count": 0, "median": None, "p90": None, "max": None}
    return {
        "invoices": figures["count"],
        "median_days": figures["median"],
        "p90_days": figures["p90"],
        "worst_days": figures["max"],
    }


def _overdue(session: Session, scope: ReportScope, threshold_days: int) -> dict[str, Any]:
    cutoff = scope.now - dt.timedelta(days=threshold_days)
    conditions = [
        Invoice.status == InvoiceStatus.APPROVED,
        Invoice.approved_at < cutoff,
        *scope.owned(Invoice.agency_id, Invoice.council_id),
    ]
    totals = select(func.count(), func.coalesce(func.sum(Invoice.total_pence), 0))
    totals = with_request_filters(scope, totals.select_from(Invoice)).where(*conditions)
    count, pence = session.execute(totals).one()
    listed = with_request_filters(
        scope,
        select(Invoice.number, Provider.trading_name, Invoice.approved_at, Invoice.total_pence)
        .join(Provider, Provider.id == Invoice.provider_id)
        .where(*conditions),
    ).order_by(Invoice.approved_at, Invoice.number)
    return {
        "invoices": int(count),
        "amount_pence": int(pence),
        "listed": [
            {
                "number": number,
                "provider_trading_name": name,
                "approved_at": approved_at,
                "days_waiting": (scope.now - approved_at).days,
                "amount_pence": int(total),
            }
            for number, name, approved_at, total in session.execute(listed.limit(LISTED))
        ],
    }


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["agency_id", "agency_name", "month", "invoices", "median_days", "p90_days"]
    header.append("worst_days")
    rows = [["", "all", "", *_figures_of(report["total"])]]
    for month in report["months"]:
        rows.append(["", "all", month["month"], *_figures_of(month)])
    for agency in report["agencies"]:
        rows.append([agency["agency_id"], agency["agency_name"], "", *_figures_of(agency)])
        for month in agency["months"]:
            rows.append([agency["agency_id"], agency["agency_name"], month["month"]])
            rows[-1].extend(_figures_of(month))
    return header, rows


def _figures_of(block: dict[str, Any]) -> list[Any]:
    return [block["invoices"], block["median_days"], block["p90_days"], block["worst_days"]]
