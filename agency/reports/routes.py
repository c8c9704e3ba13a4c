"""HTTP routes: each report as JSON (or CSV with ``?format=csv``), ``.csv``, ``.png``, ``.svg``.

Managers see their agency, auditors their council's agencies, admins every agency; partners
and providers are refused (403). The reports are aggregates: no seeker appears in them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import DBAPIError

from agency.access import Action, Kind, load
from agency.auth import current_principal, requires
from agency.db import is_statement_timeout
from agency.errors import NotFound
from agency.jobs.models import JobRecord, JobStatus
from agency.reports import charts, jobs
from agency.reports.registry import FILTERS, REPORTS, Report
from agency.reports.scope import resolve_scope
from agency.web import csv_response, db_session

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Reports for councils and agencies: local spend, unmet need, the matching "
    "funnel, prompt payment, fairness of work (JSON, CSV, PNG and SVG)",
)

READERS = (Kind.MANAGER, Kind.AUDITOR)


def compute(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The report's body; past the web's statement timeout, a 503 naming the job that will
    compute it instead (agency.reports.jobs)."""
    report = REPORTS[name]
    session, principal = db_session(), current_principal()
    assert principal is not None
    scope = resolve_scope(
        session,
        principal,
        **{k: args.get(k) for k in FILTERS},  # type: ignore[arg-type]
    )
    try:
        return report.compute(session, scope, **{k: args[k] for k in report.options if k in args})
    except DBAPIError as error:
        if not is_statement_timeout(error):
            raise
        session.rollback()
        query = {k: v for k, v in request.args.items() if k != "format"}
        raise jobs.run_later(session, name, query, principal) from None


def report_csv(name: str, report: Report, body: dict[str, Any]) -> Response:
    """The report's rows as a CSV download named for the report and its period."""
    header, rows = report.csv_rows(body)
    scope = body["scope"]
    filename = f"{name}_{scope['period_start']}_{scope['period_end']}.csv"
    return csv_response([header, *rows], filename, lineterminator="\n", stream=False)


def chart_response(name: str, body: dict[str, Any], fmt: str) -> Response:
    return Response(charts.drawn(name, body, fmt), mimetype=charts.CONTENT_TYPES[fmt])


def refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """Document the refusals every report route gives."""
    view = blp.alt_response(403, description="Partners and providers may not read reports")(view)
    view = blp.alt_response(404, description="Agency or neighbourhood not visible to you")(view)
    view = blp.alt_response(
        503,
        description="query_timeout: the report ran past the request's time bound; it is "
        "being prepared as a job (job_id, job_path): poll it, then read its result_path",
    )(view)
    return blp.alt_response(422, description="Invalid filter (field named)")(view)


def summary(text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a view its OpenAPI summary (its docstring) before the decorators wrap it."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__doc__ = text
        return view

    return decorate


def register_report(name: str, report: Report) -> None:
    """The report's four routes, one view class each.

    ``/<name>`` answers JSON, or CSV with ``?format=csv``; ``/<name>.csv``, ``.png`` and
    ``.svg`` are that format already, so they neither take nor document ``format`` (a
    stray one is ignored like any query parameter a route does not take).
    """
    camel = "".join(part.title() for part in name.split("-"))
    fixed_format = report.query(exclude=("format",))

    @blp.route(f"/{name}", endpoint=camel)
    class ReportJson(MethodView):
        @blp.arguments(report.query, location="query")
        @blp.response(200, report.schema)
        @refusals
        @requires(*READERS)
        @summary(report.summary)
        def get(self, args: dict[str, Any]) -> Any:
            body = compute(name, args)
            return report_csv(name, report, body) if args["format"] == "csv" else body

    @blp.route(f"/{name}.csv", endpoint=f"{camel}Csv")
    class ReportCsv(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type="text/csv")
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (CSV)")
        def get(self, args: dict[str, Any]) -> Response:
            return report_csv(name, report, compute(name, args))

    @blp.route(f"/{name}.png", endpoint=f"{camel}Png")
    class ReportPng(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type=charts.CONTENT_TYPES["png"])
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (PNG chart)")
        def get(self, args: dict[str, Any]) -> Response:
            return chart_response(name, compute(name, args), "png")

    @blp.route(f"/{name}.svg", endpoint=f"{camel}Svg")
    class ReportSvg(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type=charts.CONTENT_TYPES["svg"])
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (SVG chart)")
        def get(self, args: dict[str, Any]) -> Response:
            return chart_response(name, compute(name, args), "svg")


for _name, _report in REPORTS.items():
    register_report(_name, _report)


@blp.route("/results/<job_id>")
class ReportResult(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="No such finished report job, or not yours")
    @requires(*READERS)
    def get(self, job_id: str) -> Any:
        """A report prepared as a job (after a 503 query_timeout), as its route's JSON"""
        record = load(db_session(), current_principal(), JobRecord, job_id, Action.READ)
        if record.name != jobs.REPORT_JOB or record.status is not JobStatus.FINISHED:
            raise NotFound(f"No finished report job with id {job_id}.")
        return (record.result or {}).get("body")
