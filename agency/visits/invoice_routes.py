"""HTTP routes: invoices as JSON and CSV (lists stream, for agencies with many)."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.auth import current_principal, requires
from agency.pagination import page_of
from agency.privacy import pseudonym
from agency.visits import invoice_views
from agency.visits.route_common import READERS
from agency.visits.schemas import InvoiceQuerySchema, InvoiceSchema
from agency.web import CSV_DOC, csv_response, db_session

# Nested under the visits blueprint (agency.visits.routes), whose tag it shares.
blp = Blueprint("invoices", __name__)


def _pseudonymise(seeker_id: str) -> str:
    return pseudonym(current_app.extensions["agency"].settings.secret_key, seeker_id)


@blp.route("/invoices")
class Invoices(MethodView):
    @blp.arguments(InvoiceQuerySchema, location="query")
    @blp.response(200, InvoiceSchema(many=True))
    @blp.paginate()
    @requires(*READERS)
    def get(self, args, pagination_parameters):
        """Invoices you may see (provider: own; partner: its seekers'; auditor: council's)"""
        session, principal = db_session(), current_principal()
        stmt = invoice_views.invoices_for(principal, args)
        page = page_of(session, stmt, pagination_parameters)
        return [invoice_views.invoice_view(session, principal, i, _pseudonymise) for i in page]


@blp.route("/invoices.csv")
class InvoicesCsv(MethodView):
    @blp.arguments(InvoiceQuerySchema, location="query")
    @blp.doc(**CSV_DOC)
    @requires(*READERS)
    def get(self, args):
        """The invoices you may see as CSV (same filters as the list), streamed"""
        principal = current_principal()
        stmt = invoice_views.invoices_for(principal, args).execution_options(yield_per=500)
        sessionmaker = current_app.extensions["agency"].sessionmaker
        rows = invoice_views.streamed_list_csv(sessionmaker, stmt)  # the query runs here
        return csv_response(rows, "invoices.csv")


@blp.route("/invoices/<invoice_id>")
class InvoiceItem(MethodView):
    @blp.response(200, InvoiceSchema)
    @requires(*READERS)
    def get(self, invoice_id):
        """One invoice: number, lines, total, and whom it is addressed to"""
        session, principal = db_session(), current_principal()
        invoice = invoice_views.get_invoice(session, principal, invoice_id)
        return invoice_views.invoice_view(session, principal, invoice, _pseudonymise)


@blp.route("/invoices/<invoice_id>.csv")
class InvoiceCsv(MethodView):
    @blp.doc(**CSV_DOC)
    @requires(*READERS)
    def get(self, invoice_id):
        """One invoice as CSV: a header, its lines and a total line"""
        invoice = invoice_views.get_invoice(db_session(), current_principal(), invoice_id)
        rows = [list(invoice_views.CSV_HEADER), *invoice_views.csv_rows(invoice)]
        return csv_response(rows, f"{invoice.number}.csv", stream=False)
