"""HTTP routes of the council's ISF register: the register (``/isf-accounts.csv``) and
statements as CSV, and the ISF approved provider register (``/isf-approved-providers``, JSON
and ``.csv``). Registered on the ``isf`` blueprint."""

from collections.abc import Iterator

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.access import Kind
from agency.auth import current_principal, requires
from agency.csv_format import pounds
from agency.isf import register
from agency.isf.route_common import READERS
from agency.web import CSV_DOC, csv_response, db_session

# Nested under the ISF blueprint (agency.isf.routes), whose tag it shares.
blp = Blueprint("register", __name__)

PENCE = {"description": "Integer pence", "example": 125000}


class ApprovedProviderSchema(ma.Schema):
    provider_id = ma.fields.String(metadata={"example": "prv_5d1c2e0f9a8b7c6d5e4f3a2b"})
    trading_name = ma.fields.String(metadata={"example": "Amina's Companions"})
    council_id = ma.fields.String(metadata={"example": "cnc_5d1c2e0f9a8b7c6d5e4f3a2b"})
    isf_status = ma.fields.String(
        metadata={"enum": ["approved", "revoked", "none"], "example": "approved"}
    )
    reason = ma.fields.String(allow_none=True, metadata={"example": "ISF panel, October"})
    recorded_at = ma.fields.AwareDateTime(allow_none=True)
    locality = ma.fields.String(metadata={"example": "council_area"})
    size = ma.fields.String(metadata={"example": "sole_trader"})
    sector = ma.fields.String(metadata={"example": "private"})
    isf_invoiced_pence = ma.fields.Integer(
        metadata={**PENCE, "description": "Invoiced to this council's ISFs"}
    )
    isf_paid_pence = ma.fields.Integer(metadata={**PENCE, "description": "Of which paid"})


@blp.route("/isf-accounts.csv")
class RegisterCsv(MethodView):
    @blp.doc(**CSV_DOC)
    @requires(*READERS)
    def get(self):
        """The ISF register as CSV, streamed: every ISF account with its figures and totals

        The CSV of ``GET /isf-accounts`` (every account, not one page).
        """
        principal = current_principal()
        extension = current_app.extensions["agency"]

        def rows() -> Iterator[list[object]]:
            with extension.sessionmaker() as session:
                yield from register.register_rows(session, principal, extension.settings.secret_key)

        return csv_response(rows(), "isf-register.csv")


@blp.route("/isf-accounts/<isf_account_id>/statement.csv")
class StatementCsv(MethodView):
    @blp.doc(**CSV_DOC)
    @requires(*READERS)
    def get(self, isf_account_id):
        """One ISF's statement as CSV: every posting with a running and closing balance"""
        rows = register.statement_rows(db_session(), current_principal(), isf_account_id)
        return csv_response(rows, f"statement-{isf_account_id}.csv")


@blp.route("/isf-approved-providers")
class ApprovedProviders(MethodView):
    @blp.response(200, ApprovedProviderSchema(many=True))
    @requires(Kind.AUDITOR, Kind.MANAGER)
    def get(self):
        """The ISF approved provider register, with what each provider was paid from ISFs"""
        return register.approved_providers(db_session(), current_principal())


@blp.route("/isf-approved-providers.csv")
class ApprovedProvidersCsv(MethodView):
    @blp.doc(**CSV_DOC)
    @requires(Kind.AUDITOR, Kind.MANAGER)
    def get(self):
        """The ISF approved provider register as CSV"""
        entries = register.approved_providers(db_session(), current_principal())
        header = list(ApprovedProviderSchema().fields)
        rows = [header] + [
            [pounds(e[name]) if name.endswith("_pence") else (e[name] or "") for name in header]
            for e in entries
        ]
        return csv_response(rows, "isf-approved-providers.csv")
