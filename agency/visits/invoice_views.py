"""Reading invoices: who may see which, their JSON view and their CSV rows.

Invoices are written by ``agency.isf.invoices``; this module only reads them. A
partner client sees the invoices of its seekers' arrangements, so visibility is
decided by the invoice's arrangement (whose scope includes the partner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, authorize, visible_to
from agency.csv_format import pounds
from agency.directory.models import Agency
from agency.errors import InvalidInput, NotFound
from agency.introductions.models import Arrangement
from agency.isf.models import Invoice
from agency.seekers.models import CareSeeker
from agency.visits.models import Timesheet

Pseudonymise = Callable[[str], str]
CSV_HEADER = (
    "invoice_number",
    "line",
    "visit_id",
    "date",
    "start",
    "end",
    "service",
    "minutes",
    "rate_gbp_per_hour",
    "amount_gbp",
)


def get_invoice(session: Session, principal: Principal, invoice_id: str) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    arrangement = session.get(Arrangement, invoice.arrangement_id) if invoice else None
    if invoice is None or arrangement is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    authorize(principal, Action.READ, arrangement)
    return invoice


def invoices_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """The invoices the principal may see, newest first, filtered."""
    stmt = select(Invoice).where(visible_to(Invoice, principal))
    if filters.get("status"):
        stmt = stmt.where(Invoice.status == filters["status"])
    if filters.get("provider_id"):
        stmt = stmt.where(Invoice.provider_id == filters["provider_id"])
    if filters.get("arrangement_id"):
        stmt = stmt.where(Invoice.arrangement_id == filters["arrangement_id"])
    if filters.get("period"):  # "YYYY-MM": invoices whose period overlaps that month
        first, after = month_bounds(filters["period"])
        stmt = stmt.where(Invoice.period_start < after, Invoice.period_end >= first)
    return stmt.order_by(Invoice.approved_at.desc(), Invoice.id)


# Invoice periods the API answers for; outside, date arithmetic would leave datetime's range.
FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR = 2000, 2999


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first day of month ``YYYY-MM`` and of the month after (422 outside the range)."""
    year, _, month = period.partition("-")
    if not (
        year.isdigit()
        and month.isdigit()
        and FIRST_PERIOD_YEAR <= int(year) <= LAST_PERIOD_YEAR
        and 1 <= int(month) <= 12
    ):
        raise InvalidInput(
            errors={"period": [f"Use YYYY-MM, {FIRST_PERIOD_YEAR}-01 to {LAST_PERIOD_YEAR}-12."]}
        )
    first = dt.date(int(year), int(month), 1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def streamed_list_csv(
    sessionmaker: Callable[[], Session], stmt: Select[Any]
) -> Iterator[list[str]]:
    """The invoice list's CSV rows, with the query already run.

    The query runs here, before the response starts: a failure then is an error response,
    not a 200 cut off mid-stream that the client takes for a complete file. Flask ends the
    request (and closes its session) before a streamed body is read, so the rows come
    through a session of their own, closed when the stream ends or is abandoned.
    """
    session = sessionmaker()
    try:
        invoices = session.scalars(stmt)
    except BaseException:
        session.close()
        raise

    def rows() -> Iterator[list[str]]:
        try:
            yield list(LIST_CSV_HEADER)
            count, total = 0, 0
            for invoice in invoices:
                count, total = count + 1, total + invoice.total_pence
                yield list_csv_row(invoice)
            yield ["total", str(count), *[""] * 8, pounds(total)]
        finally:
            session.close()

    return rows()


def addressed_to(
    session: Session, principal: Principal, invoice: Invoice, pseudonymise: Pseudonymise
) -> dict[str, Any]:
    """Whom the invoice is for: the agency holding the ISF, or the seeker's side.

    No address data. The seeker appears by display name to those who know them
    (their partner, the agency, their provider) and by pseudonym to auditors.
    """
    if invoice.funding == "isf":
        agency = session.get(Agency, invoice.agency_id)
        return {
            "kind": "agency",
            "agency_id": invoice.agency_id,
            "name": agency.name if agency else None,
        }
    arrangement = session.get(Arrangement, invoice.arrangement_id)
    assert arrangement is not None
    seeker = session.get(CareSeeker, arrangement.seeker_id)
    body: dict[str, Any] = {
        "kind": "seeker",
        "partner_client_id": arrangement.partner_client_id,
        "seeker_pseudonym": pseudonymise(arrangement.seeker_id),
    }
    if principal.kind is not Kind.AUDITOR:
        body["seeker_id"] = arrangement.seeker_id
        body["name"] = seeker.display_name if seeker and not seeker.erased_at else None
    return body


def invoice_view(
    session: Session, principal: Principal, invoice: Invoice, pseudonymise: Pseudonymise
) -> dict[str, Any]:
    view = {
        name: getattr(invoice, name)
        for name in (
            "id",
            "number",
            "arrangement_id",
            "provider_id",
            "agency_id",
            "funding",
            "isf_account_id",
            "period_start",
            "period_end",
            "lines",
            "total_pence",
            "status",
            "approved_at",
            "paid_at",
            "days_to_paid",
        )
    }
    view["total_minutes"] = sum(int(line.get("minutes", 0)) for line in invoice.lines)
    view["timesheet_id"] = session.scalar(
        select(Timesheet.id).where(Timesheet.invoice_id == invoice.id)
    )
    view["addressed_to"] = addressed_to(session, principal, invoice, pseudonymise)
    return view


def csv_rows(invoice: Invoice) -> Iterator[list[str]]:
    """One invoice as CSV rows: its lines, then a total line (no header)."""
    for n, line in enumerate(invoice.lines, start=1):
        yield [
            invoice.number,
            str(n),
            line.get("visit_id", ""),
            line.get("date", ""),
            line.get("start", ""),
            line.get("end", ""),
            line.get("service", ""),
            str(line.get("minutes", "")),
            pounds(int(line.get("rate_pence", 0))),
            pounds(int(line["amount_pence"])),
        ]
    yield [invoice.number, "total", "", "", "", "", "", "", "", pounds(invoice.total_pence)]


LIST_CSV_HEADER = (
    "invoice_number",
    "invoice_id",
    "arrangement_id",
    "provider_id",
    "funding",
    "period_start",
    "period_end",
    "status",
    "approved_at",
    "paid_at",
    "total_gbp",
)


def list_csv_row(invoice: Invoice) -> list[str]:
    return [
        invoice.number,
        invoice.id,
        invoice.arrangement_id,
        invoice.provider_id,
        invoice.funding,
        invoice.period_start.isoformat(),
        invoice.period_end.isoformat(),
        invoice.status.value,
        invoice.approved_at.isoformat(),
        invoice.paid_at.isoformat() if invoice.paid_at else "",
        pounds(invoice.total_pence),
    ]
