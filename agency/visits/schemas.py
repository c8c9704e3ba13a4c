"""Request and response bodies for visits, timesheets and invoices."""

import marshmallow as ma
from marshmallow import post_dump, validate, validates_schema

from agency.isf.models import InvoiceStatus
from agency.visits.models import Flag, TimesheetStatus, VisitStatus
from agency.web import auditor_is_reading

START = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="Use HH:MM (00:00-23:59).")
END = validate.Regexp(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", error="Use HH:MM (00:00-24:00).")
SERVICE_KEY = ma.fields.String(validate=validate.Length(min=1, max=60))
REASON = {"validate": validate.Length(min=1, max=2000)}


class VisitCreateSchema(ma.Schema):
    date = ma.fields.Date(
        required=True,
        metadata={"description": "Day of the visit (Europe/London)", "example": "2026-11-24"},
    )
    start = ma.fields.String(
        required=True, validate=START, metadata={"description": "Wall time", "example": "10:00"}
    )
    end = ma.fields.String(
        required=True, validate=END, metadata={"description": "Wall time", "example": "11:30"}
    )
    services = ma.fields.List(
        SERVICE_KEY,
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "Service keys delivered", "example": ["companionship"]},
    )
    notes = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={
            "description": "What was done; only what the agency needs, no health details",
            "example": "Walk to the park and shopping",
        },
    )

    @validates_schema
    def _end_after_start(self, data, **_kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            raise ma.ValidationError("Must be after start.", "end")


class VisitUpdateSchema(VisitCreateSchema):
    """The same fields, each optional (load it with ``partial=True``): the rest stay."""


class VisitQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in VisitStatus]))
    date_from = ma.fields.Date(metadata={"example": "2026-11-01"})
    date_to = ma.fields.Date(metadata={"example": "2026-11-30"})


class DisputeSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, **REASON, metadata={"example": "Nobody came on Tuesday"}
    )


class VisitSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "vis_3c9a..."})
    arrangement_id = ma.fields.String(metadata={"example": "arr_6b0e..."})
    provider_id = ma.fields.String()
    timesheet_id = ma.fields.String(allow_none=True)
    date = ma.fields.Date()
    start = ma.fields.String(attribute="start_time", metadata={"example": "10:00"})
    end = ma.fields.String(attribute="end_time", metadata={"example": "11:30"})
    starts_at = ma.fields.AwareDateTime(metadata={"description": "UTC"})
    ends_at = ma.fields.AwareDateTime(metadata={"description": "UTC"})
    minutes = ma.fields.Integer(metadata={"example": 90})
    services = ma.fields.List(ma.fields.String(), metadata={"example": ["companionship"]})
    notes = ma.fields.String(allow_none=True, metadata={"description": "null for auditors"})
    flags = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": f"Departures from the agreement: {', '.join(f.value for f in Flag)}",
            "example": ["outside_schedule"],
        },
    )
    status = ma.fields.String(metadata={"example": "logged"})
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)
    disputed_at = ma.fields.AwareDateTime(allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    cover_rates_pence = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        allow_none=True,
        metadata={
            "description": "Set on a cover visit: the cover provider's hourly rates (pence) "
            "it is invoiced at",
            "example": None,
        },
    )
    created_at = ma.fields.AwareDateTime()

    @post_dump
    def _no_free_text_for_auditors(self, data, **_kwargs):
        # Notes and dispute reasons may say anything about the person: auditors check money.
        if auditor_is_reading():
            for name in ("notes", "dispute_reason"):
                if name in data:
                    data[name] = None
        return data


class TimesheetCreateSchema(ma.Schema):
    period_start = ma.fields.Date(required=True, metadata={"example": "2026-11-01"})
    period_end = ma.fields.Date(
        required=True, metadata={"description": "At most 31 days on", "example": "2026-11-30"}
    )


class TimesheetQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in TimesheetStatus]))


class QueryReasonSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, **REASON, metadata={"example": "Tuesday's visit is disputed"}
    )


class TimesheetSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "tms_8d2f..."})
    arrangement_id = ma.fields.String()
    provider_id = ma.fields.String()
    agency_id = ma.fields.String()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    status = ma.fields.String(metadata={"example": "submitted"})
    submitted_at = ma.fields.AwareDateTime()
    queried_at = ma.fields.AwareDateTime(allow_none=True)
    query_reason = ma.fields.String(allow_none=True)
    approved_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "The prompt-payment clock starts here"}
    )
    invoice_id = ma.fields.String(allow_none=True, metadata={"example": "inv_8d2f..."})
    total_minutes = ma.fields.Function(lambda t: sum(v.minutes for v in t.visits))
    visits = ma.fields.List(ma.fields.Nested(VisitSchema))


class InvoiceQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in InvoiceStatus]))
    provider_id = ma.fields.String(metadata={"example": "prv_9f3e..."})
    arrangement_id = ma.fields.String(metadata={"example": "arr_6b0e..."})
    period = ma.fields.String(
        # invoice_views' FIRST_PERIOD_YEAR to LAST_PERIOD_YEAR (2000-2999)
        validate=validate.Regexp(
            r"^2\d{3}-(0[1-9]|1[0-2])$", error="Use YYYY-MM, 2000-01 to 2999-12."
        ),
        metadata={"description": "Invoices whose period overlaps this month", "example": "2026-11"},
    )


class InvoiceLineSchema(ma.Schema):
    visit_id = ma.fields.String()
    date = ma.fields.String(metadata={"example": "2026-11-24"})
    start = ma.fields.String(metadata={"example": "10:00"})
    end = ma.fields.String(metadata={"example": "11:30"})
    service = ma.fields.String(metadata={"example": "companionship"})
    minutes = ma.fields.Integer(metadata={"example": 90})
    rate_pence = ma.fields.Integer(metadata={"description": "Hourly rate", "example": 1850})
    terms_version = ma.fields.Integer(metadata={"example": 1})
    amount_pence = ma.fields.Integer(metadata={"description": "Rounded half up", "example": 2775})


class AddressedToSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "agency (ISF) or seeker", "example": "agency"})
    agency_id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    partner_client_id = ma.fields.String()
    seeker_id = ma.fields.String()
    seeker_pseudonym = ma.fields.String(metadata={"example": "S-1A2B3C4D5E"})


class InvoiceSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "inv_8d2f..."})
    number = ma.fields.String(metadata={"example": "INV-SOUTHMEAD-202611-0001"})
    arrangement_id = ma.fields.String()
    provider_id = ma.fields.String()
    agency_id = ma.fields.String()
    funding = ma.fields.String(metadata={"example": "isf"})
    isf_account_id = ma.fields.String(allow_none=True)
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    lines = ma.fields.List(ma.fields.Nested(InvoiceLineSchema))
    total_pence = ma.fields.Integer(metadata={"description": "Sum of the lines", "example": 5705})
    total_minutes = ma.fields.Integer(metadata={"example": 185})
    status = ma.fields.String(metadata={"example": "approved"})
    approved_at = ma.fields.AwareDateTime()
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    days_to_paid = ma.fields.Integer(allow_none=True)
    timesheet_id = ma.fields.String(
        allow_none=True, metadata={"description": "The approved timesheet it was made from"}
    )
    addressed_to = ma.fields.Nested(AddressedToSchema)


class TimesheetApprovalsSchema(ma.Schema):
    timesheet_ids = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(min=1, max=10_000),
        metadata={"example": ["tms_3c9a...", "tms_8d2f..."]},
    )


class TimesheetRefusalSchema(ma.Schema):
    timesheet_id = ma.fields.String()
    code = ma.fields.String(metadata={"example": "insufficient_funds"})
    message = ma.fields.String(
        metadata={"description": "Why this timesheet was not approved, as a single approval says"}
    )


class TimesheetApprovalsResultSchema(ma.Schema):
    approved = ma.fields.List(ma.fields.String(), metadata={"description": "Invoiced now"})
    refused = ma.fields.List(
        ma.fields.Nested(TimesheetRefusalSchema),
        metadata={
            "description": "Left as they were: illegal_transition, visit_disputed, "
            "no_isf_account, isf_account_closed, insufficient_funds, not_found"
        },
    )
