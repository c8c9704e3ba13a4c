"""HTTP routes: each report as JSON (or CSV with ``?format=csv``), ``.csv``, ``.png``, ``.svg``.

Managers see their agency, auditors their council's agencies, admins every agency; partners
and providers are refused (403). The reports are aggregates: no seeker appears in them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.equality import report as equal_access
from agency.equality.schemas import EqualAccessSchema
from agency.outcomes import report as outcomes
from agency.outcomes.schemas import OutcomesReportSchema
from agency.reports import charts, fairness, funnel, local_spend, prompt_payment, unmet_need
from agency.reports.schemas import (
    FairnessSchema,
    FunnelSchema,
    LocalSpendSchema,
    PromptPaymentQuerySchema,
    PromptPaymentSchema,
    ReportQuerySchema,
    UnmetNeedSchema,
)
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
FILTERS = ("period_start", "period_end", "agency_id", "neighbourhood_id", "service")


@dataclass(frozen=True)
class Report:
    compute: Callable[..., dict[str, Any]]
    csv_rows: Callable[[dict[str, Any]], tuple[list[str], list[list[Any]]]]
    schema: type[ma.Schema]
    summary: str
    query: type[ma.Schema] = ReportQuerySchema
    options: tuple[str, ...] = ()


REPORTS = {
    "local-spend": Report(
        local_spend.local_spend,
        local_spend.csv_rows,
        LocalSpendSchema,
        "Local spend in concentric circles, by provider size and sector",
    ),
    "unmet-need": Report(
        unmet_need.unmet_need,
        unmet_need.csv_rows,
        UnmetNeedSchema,
        "Unmet need by neighbourhood and service, waits, and where supply is shortest",
    ),
    "funnel": Report(
        funnel.funnel,
        funnel.csv_rows,
        FunnelSchema,
        "The matching funnel: conversion, median times and decline reasons",
    ),
    "prompt-payment": Report(
        prompt_payment.prompt_payment,
        prompt_payment.csv_rows,
        PromptPaymentSchema,
        "Prompt payment: days from approval to paid, and invoices waiting too long",
        PromptPaymentQuerySchema,
        ("threshold_days",),
    ),
    "fairness": Report(
        fairness.fairness,
        fairness.csv_rows,
        FairnessSchema,
        "Fairness of work: top-10 % share and Gini of weekly hours across providers",
    ),
    "outcomes": Report(
        outcomes.outcomes,
        outcomes.csv_rows,
        OutcomesReportSchema,
        "Wellbeing outcomes (ONS4): change from baseline with 95 % CIs, small numbers suppressed",
    ),
    "equal-access": Report(
        equal_access.equal_access,
        equal_access.csv_rows,
        EqualAccessSchema,
        "Equal access by characteristic beside the whole population, small cells suppressed",
    ),
}


def compute(report: Report, args: dict[str, Any]) -> dict[str, Any]:
    session = db_session()
    scope = resolve_scope(
        session,
        current_principal(),
        **{k: args.get(k) for k in FILTERS},  # type: ignore[arg-type]
    )
    return report.compute(session, scope, **{k: args[k] for k in report.options if k in args})


def report_csv(name: str, report: Report, body: dict[str, Any]) -> Response:
    """The report's rows as a CSV download named for the report and its period."""
    header, rows = report.csv_rows(body)
    scope = body["scope"]
    filename = f"{name}_{scope['period_start']}_{scope['period_end']}.csv"
    return csv_response([header, *rows], filename, lineterminator="\n", stream=False)


def chart_response(name: str, body: dict[str, Any], fmt: str) -> Response:
    figure = charts.CHARTS[name](body)
    return Response(charts.render(figure, fmt), mimetype=charts.CONTENT_TYPES[fmt])


def refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """Document the refusals every report route gives."""
    view = blp.alt_response(403, description="Partners and providers may not read reports")(view)
    view = blp.alt_response(404, description="Agency or neighbourhood not visible to you")(view)
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
            body = compute(report, args)
            return report_csv(name, report, body) if args["format"] == "csv" else body

    @blp.route(f"/{name}.csv", endpoint=f"{camel}Csv")
    class ReportCsv(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type="text/csv")
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (CSV)")
        def get(self, args: dict[str, Any]) -> Response:
            return report_csv(name, report, compute(report, args))

    @blp.route(f"/{name}.png", endpoint=f"{camel}Png")
    class ReportPng(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type=charts.CONTENT_TYPES["png"])
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (PNG chart)")
        def get(self, args: dict[str, Any]) -> Response:
            return chart_response(name, compute(report, args), "png")

    @blp.route(f"/{name}.svg", endpoint=f"{camel}Svg")
    class ReportSvg(MethodView):
        @blp.arguments(fixed_format, location="query")
        @blp.response(200, content_type=charts.CONTENT_TYPES["svg"])
        @refusals
        @requires(*READERS)
        @summary(f"{report.summary} (SVG chart)")
        def get(self, args: dict[str, Any]) -> Response:
            return chart_response(name, compute(report, args), "svg")


for _name, _report in REPORTS.items():
    register_report(_name, _report)
