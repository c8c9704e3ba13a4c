"""Every report: how it is computed, written as CSV and described (no Flask).

The routes serve them (``agency.reports.routes``); a report that outgrows the web's
statement timeout runs as a job (``agency.reports.jobs``) from the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma

from agency.equality import report as equal_access
from agency.equality.schemas import EqualAccessSchema
from agency.outcomes import report as outcomes
from agency.outcomes.schemas import OutcomesReportSchema
from agency.reports import fairness, funnel, local_spend, prompt_payment, unmet_need
from agency.reports.schemas import (
    FairnessSchema,
    FunnelSchema,
    LocalSpendSchema,
    PromptPaymentQuerySchema,
    PromptPaymentSchema,
    ReportQuerySchema,
    UnmetNeedSchema,
)

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
