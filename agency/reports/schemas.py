"""Report filters in, report bodies out (every figure documented for the OpenAPI contract)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

F = ma.fields


def _int(description: str, example: Any = 0, **kw: Any) -> F.Integer:
    return F.Integer(metadata={"description": description, "example": example}, **kw)


def _float(description: str, example: Any = 0.5) -> F.Float:
    return F.Float(allow_none=True, metadata={"description": description, "example": example})


def _str(description: str, example: Any = "") -> F.String:
    return F.String(allow_none=True, metadata={"description": description, "example": example})


def _list(schema: type[ma.Schema], description: str) -> F.List:
    return F.List(F.Nested(schema), metadata={"description": description})


class ReportQuerySchema(ma.Schema):
    period_start = F.Date(
        metadata={
            "description": "First day (Europe/London); default 364 days before the end",
            "example": "2026-04-01",
        }
    )
    period_end = F.Date(
        metadata={
            "description": "Last day, inclusive (Europe/London); default today",
            "example": "2027-03-31",
        }
    )
    agency_id = F.String(metadata={"description": "Only this agency", "example": "agy_81fa..."})
    neighbourhood_id = F.String(
        metadata={"description": "Only care requests in this neighbourhood", "example": "nbh_1c..."}
    )
    service = F.String(
        validate=validate.Length(max=40),
        metadata={"description": "Only care asking for this service", "example": "companionship"},
    )
    format = F.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "json (default) or csv", "example": "csv"},
    )

    @ma.validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            raise ma.ValidationError("Must not be before period_start.", "period_end")


class PromptPaymentQuerySchema(ReportQuerySchema):
    threshold_days = F.Integer(
        load_default=14,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "List invoices unpaid for longer than this", "example": 14},
    )


class ReportScopeSchema(ma.Schema):
    period_start = F.Date(metadata={"example": "2026-04-01"})
    period_end = F.Date(metadata={"example": "2027-03-31"})
    agency_id = _str("Agency covered (managers: always theirs)", "agy_81fa...")
    council_id = _str("Council covered (auditors)", "cnc_02ab...")
    neighbourhood_id = _str("Neighbourhood filter")
    service = _str("Service filter", "companionship")
    description = _str("The scope in words, as in the chart subtitle", "agencies of Bristol")
    generated_at = F.AwareDateTime(metadata={"description": "When the figures were computed"})


class AmountSchema(ma.Schema):
    category = _str("Circle, size or sector", "council_area")
    amount_pence = _int("Paid in the period, pence", 125000)
    share = _float("Share of the amount paid", 0.62)


class SpendSchema(ma.Schema):
    agency_id = _str("Agency (absent for the total)", "agy_81fa...")
    agency_name = _str("Agency name", "Southmead Community Care")
    amount_pence = _int("Total paid to providers, pence", 200000)
    invoices = _int("Paid invoices", 12)
    by_locality = _list(AmountSchema, "By provider's local-spend circle")
    by_size = _list(AmountSchema, "By provider size")
    by_sector = _list(AmountSchema, "By provider sector")
    vcse_amount_pence = _int("Paid to VCSE providers, pence")
    vcse_share = _float("VCSE share")
    micro_amount_pence = _int("Paid to micro-providers and sole traders, pence")
    micro_share = _float("Micro + sole-trader share")


class PlacementSchema(ma.Schema):
    locality = _str("Circle", "council_area")
    locality_basis = _str("How the provider was placed", "centroid of BS3 (GeoNames) ...")
    providers = _int("Paid providers placed this way", 7)


class LocalSpendSchema(ma.Schema):
    scope = F.Nested(ReportScopeSchema)
    total = F.Nested(SpendSchema)
    agencies = _list(SpendSchema, "Per agency")
    placement = _list(PlacementSchema, "How the paid providers were placed")


class UnmetAreaSchema(ma.Schema):
    neighbourhood_id = _str("Neighbourhood (null: none holds the outcode)", "nbh_1c...")
    neighbourhood_name = _str("Neighbourhood name", "Southmead")
    covered = F.Boolean(metadata={"description": "An agency covers it", "example": True})
    agency_id = _str("Covering agency")
    outcode = _str("Outcode, for areas no agency covers", "BS35")
    label = _str("Name for people", "not covered by any agency (BS35)")
    requests = _int("Open, unmatched care requests", 4)
    hours_per_week = _float("Their requested hours per week", 6.5)
    median_wait_days = _float("Median days since the request was made", 9.5)
    max_wait_days = _float("Longest wait, days", 31.0)


class ShortageSchema(ma.Schema):
    neighbourhood_id = _str("Neighbourhood")
    neighbourhood_name = _str("Neighbourhood name", "Southmead")
    agency_id = _str("Covering agency")
    service = _str("Service", "personal_care")
    requests = _int("Unmet requests asking for it", 3)
    requested_hours = _float("Unmet hours per week", 6.0)
    available_hours = _float("Spare hours per week of the agency's providers offering it", 2.0)
    ratio = _float("Requested per spare hour (null: no spare hours)", 3.0)


class UnmetNeedSchema(ma.Schema):
    scope = F.Nested(ReportScopeSchema)
    requests = _int("Open, unmatched care requests", 12)
    hours_per_week = _float("Their hours per week", 20.5)
    areas = _list(UnmetAreaSchema, "By neighbourhood (and outcode where no agency covers it)")
    shortage = _list(ShortageSchema, "Per neighbourhood and service, shortest first")
    shortest = _list(ShortageSchema, "The five shortest")


class FunnelStepSchema(ma.Schema):
    step = _str("requests, suggested, introduced, accepted or arrangements", "introduced")
    count = _int("Care requests that reached the step", 40)
    conversion_from_previous = _float("Share of the previous step", 0.8)
    conversion_from_requests = _float("Share of all requests", 0.6)


class MedianHoursSchema(ma.Schema):
    to_first_suggestion = _float("Median hours from request to first suggestion", 0.2)
    to_first_introduction = _float("Median hours to first introduction", 20.0)
    to_arrangement = _float("Median hours to arrangement", 96.0)


class DeclineReasonSchema(ma.Schema):
    reason = _str("Decline reason as given", "Too far to travel")
    count = _int("Declined introductions", 3)


class DeclineReasonsSchema(ma.Schema):
    provider_declined = _list(DeclineReasonSchema, "Top ten given by providers")
    seeker_declined = _list(DeclineReasonSchema, "Top ten given by seekers")


class FunnelCoverSchema(ma.Schema):
    offered = _int("Planned visits of the period offered to a cover provider", 12)
    accepted = _int("Of those, cover accepted", 10)
    declined = _int("Cover declined (not offered again)", 1)
    visits_made = _int("Accepted cover whose visit was logged", 8)


class FunnelSchema(ma.Schema):
    scope = F.Nested(ReportScopeSchema)
    steps = _list(FunnelStepSchema, "The funnel")
    median_hours = F.Nested(MedianHoursSchema)
    decline_reasons = F.Nested(DeclineReasonsSchema)
    cover = F.Nested(
        FunnelCoverSchema,
        metadata={"description": "Cover while a provider is away: counted apart, not as matches"},
    )


class PaymentDaysSchema(ma.Schema):
    month = _str("UTC month paid (YYYY-MM)", "2026-10")
    invoices = _int("Paid invoices", 30)
    median_days = _float("Median days from approval to paid", 3.0)
    p90_days = _float("90th percentile (linear interpolation)", 9.1)
    worst_days = _float("Longest", 16.0)


class AgencyDaysSchema(PaymentDaysSchema):
    agency_id = _str("Agency")
    agency_name = _str("Agency name")
    months = _list(PaymentDaysSchema, "Per month")


class OverdueInvoiceSchema(ma.Schema):
    number = _str("Invoice number", "INV-2026-00042")
    provider_trading_name = _str("Provider", "Bedminster Helping Hands")
    approved_at = F.AwareDateTime(metadata={"description": "When it was approved"})
    days_waiting = _int("Whole days since approval", 17)
    amount_pence = _int("Amount, pence", 7200)


class OverdueSchema(ma.Schema):
    invoices = _int("Approved, unpaid invoices past the threshold", 2)
    amount_pence = _int("Their total, pence", 14400)
    listed = _list(OverdueInvoiceSchema, "Oldest first, at most 500")


class PromptPaymentSchema(ma.Schema):
    scope = F.Nested(ReportScopeSchema)
    threshold_days = _int("Threshold used", 14)
    total = F.Nested(PaymentDaysSchema)
    months = _list(PaymentDaysSchema, "Per month, all agencies in scope")
    agencies = _list(AgencyDaysSchema, "Per agency")
    overdue = F.Nested(OverdueSchema)


class DecileSchema(ma.Schema):
    decile = _int("Tenth of providers, fewest hours first", 1)
    providers = _int("Providers in it", 20)
    hours_per_week = _float("Their weekly hours", 12.0)


class DistributionSchema(ma.Schema):
    agency_id = _str("Agency (absent for the total)")
    agency_name = _str("Agency name")
    providers = _int("Approved, listed providers", 200)
    providers_with_work = _int("Of them, with any hours", 150)
    hours_per_week = _float("Weekly hours in active arrangements", 1450.5)
    top_decile_providers = _int("Providers in the top 10 % (rounded up)", 20)
    top_decile_share = _float("Their share of the hours", 0.31)
    gini = _float("Gini coefficient (0 equal, 1 all to one)", 0.42)
    deciles = _list(DecileSchema, "Hours per tenth of providers (the Lorenz curve)")


class FairnessSchema(ma.Schema):
    scope = F.Nested(ReportScopeSchema)
    total = F.Nested(DistributionSchema)
    agencies = _list(DistributionSchema, "Per agency")
