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
from agency.csv_format import csv_text
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
from agency.web import db_session

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


def csv_response(name: str, report: Report, body: dict[str, Any]) -> Response:
    header, rows = report.csv_rows(body)
    text = csv_text([header, *rows], lineterminator="\n")
    scope = body["scope"]
    filename = f"{name}_{scope['period_start']}_{scope['period_end']}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def chart_response(name: str, body: dict[str, Any], fmt: str) -> Response:
    figure = charts.CHARTS[name](body)
    return Response(charts.render(figure, fmt), mimetype=charts.CONTENT_TYPES[fmt])


def _register(name: str, report: Report) -> None:
    camel = "".join(part.title() for part in name.split("-"))
    refusals = [
        (403, "Partners and providers may not read reports"),
        (404, "Agency or neighbourhood not visible to you"),
        (422, "Invalid filter (field named)"),
    ]

    def document(view: Callable[..., Any]) -> Callable[..., Any]:
        for code, description in refusals:
            view = blp.alt_response(code, description=description)(view)
        return view

    def as_json(self: MethodView, args: dict[str, Any]) -> Any:
        body = compute(report, args)
        return csv_response(name, report, body) if args["format"] == "csv" else body

    def as_csv(self: MethodView, args: dict[str, Any]) -> Any:
        return csv_response(name, report, compute(report, args))

    def as_chart(fmt: str) -> Callable[..., Any]:
        def view(self: MethodView, args: dict[str, Any]) -> Any:
            return chart_response(name, compute(report, args), fmt)

        view.__doc__ = f"{report.summary} ({fmt.upper()} chart)"
        return view

    as_json.__doc__ = report.summary
    as_csv.__doc__ = f"{report.summary} (CSV)"
    routes = [
        (f"/{name}", camel, as_json, blp.response(200, report.schema)),
        (f"/{name}.csv", f"{camel}Csv", as_csv, blp.response(200, content_type="text/csv")),
    ]
    for fmt, content_type in charts.CONTENT_TYPES.items():
        routes.append(
            (
                f"/{name}.{fmt}",
                f"{camel}{fmt.title()}",
                as_chart(fmt),
                blp.response(200, content_type=content_type),
            )
        )
    # ``format`` chooses JSON or CSV on the JSON route only: the .csv, .png and .svg routes
    # are that format already, so they neither take nor document it (a stray one is ignored
    # like any query parameter a route does not take).
    fixed_format = report.query(exclude=("format",))
    for rule, class_name, view, response in routes:
        query = report.query if rule == f"/{name}" else fixed_format
        get = blp.arguments(query, location="query")(response(document(requires(*READERS)(view))))
        blp.route(rule)(type(class_name, (MethodView,), {"get": get}))


for _name, _report in REPORTS.items():
    _register(_name, _report)
