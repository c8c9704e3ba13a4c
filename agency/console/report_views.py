"""Reports with their charts and CSV downloads, through the API's own report functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request
from werkzeug.wrappers import Response

from agency.access import Kind
from agency.console.blueprint import bp, staff
from agency.errors import NotFound
from agency.reports import routes as report_routes

REPORTS = report_routes.REPORTS


def _filters() -> dict[str, Any]:
    """The period from the query string (the API's defaults when absent or unreadable)."""
    filters: dict[str, Any] = {}
    for name in ("period_start", "period_end"):
        raw = request.args.get(name, "")
        try:
            filters[name] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            filters[name] = None
    return filters


def _report(name: str):  # type: ignore[no-untyped-def]
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(f"No report {name}.")
    return report


@bp.route("/reports")
@staff(Kind.MANAGER, Kind.AUDITOR)
def reports() -> str:
    return render_template("console/reports.html", reports=REPORTS)


@bp.route("/reports/<name>")
@staff(Kind.MANAGER, Kind.AUDITOR)
def report(name: str) -> str:
    report = _report(name)
    filters = _filters()
    body = report_routes.compute(name, filters)
    header, rows = report.csv_rows(body)
    query = {k: v.isoformat() for k, v in filters.items() if v}
    return render_template(
        "console/report.html",
        name=name,
        report=report,
        body=body,
        header=header,
        rows=rows,
        query=query,
    )


@bp.route("/reports/<name>.png")
@staff(Kind.MANAGER, Kind.AUDITOR)
def report_chart(name: str) -> Response:
    _report(name)  # 404 for an unknown report
    return report_routes.chart_response(name, report_routes.compute(name, _filters()), "png")


@bp.route("/reports/<name>.csv")
@staff(Kind.MANAGER, Kind.AUDITOR)
def report_csv(name: str) -> Response:
    report = _report(name)
    return report_routes.report_csv(name, report, report_routes.compute(name, _filters()))
