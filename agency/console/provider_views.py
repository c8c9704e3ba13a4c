"""The vetting queue: providers waiting for this agency, their evidence, the manager's decision."""

from __future__ import annotations

import marshmallow as ma
from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from agency.access import Kind
from agency.console import queries
from agency.console.blueprint import bp, principal, refusal_message, staff
from agency.console.forms import ComplianceDecisionForm, VettingDecisionForm
from agency.errors import DomainError
from agency.providers import compliance_documents, vetting
from agency.providers.models import ListingStatus
from agency.providers.vetting_schemas import DecisionSchema
from agency.visits.visit_rules import london_today
from agency.web import db_session

QUEUE = (ListingStatus.APPLIED, ListingStatus.MORE_INFO_REQUESTED)


@bp.route("/providers")
@staff(Kind.MANAGER)
def providers() -> str:
    db, me = db_session(), principal()
    queue = []
    for status in QUEUE:
        queue += list(db.scalars(vetting.listings_query(me, status=status)))
    return render_template(
        "console/providers.html",
        queue=queue,
        expiring=queries.expiring_compliance(db, me, london_today()),
    )


def _listing_page(listing_id: str, form: VettingDecisionForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    db, me = db_session(), principal()
    listing = vetting.get_listing(db, me, listing_id)
    items = compliance_documents.list_items(db, me, listing.provider_id)
    return render_template(
        "console/listing.html",
        listing=listing,
        provider=listing.provider,
        items=items,
        form=form or VettingDecisionForm(),
        services=queries.service_names(db),
        compliance_form=ComplianceDecisionForm,
    ), status


@bp.route("/providers/listings/<listing_id>")
@staff(Kind.MANAGER)
def listing(listing_id: str):  # type: ignore[no-untyped-def]
    return _listing_page(listing_id)


@bp.route("/providers/listings/<listing_id>/decision", methods=["POST"])
@staff(Kind.MANAGER)
def decide_listing(listing_id: str):  # type: ignore[no-untyped-def]
    form = VettingDecisionForm()
    if not form.validate():
        return _listing_page(listing_id, form, 422)
    try:
        # The API's own schema: a reason for every decision but approve.
        body = DecisionSchema().load(
            {"decision": form.decision.data, "reason": form.reason.data or None}
        )
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        form.reason.errors = list(messages.get("reason", ["Give a reason for this decision."]))
        return _listing_page(listing_id, form, 422)
    try:
        vetting.decide(db_session(), principal(), listing_id, body["decision"], body["reason"])
    except DomainError as error:
        if error.status == 404:
            raise
        form.reason.errors = [refusal_message(error)]
        return _listing_page(listing_id, form, error.status)
    flash("Decision recorded.", "success")
    return redirect(url_for("console.listing", listing_id=listing_id))


@bp.route("/providers/listings/<listing_id>/compliance/<item_id>", methods=["POST"])
@staff(Kind.MANAGER)
def decide_compliance(listing_id: str, item_id: str) -> Response:
    db, me = db_session(), principal()
    listing = vetting.get_listing(db, me, listing_id)
    form = ComplianceDecisionForm()
    if not form.validate():
        flash("Choose whether the evidence stands.", "error")
    else:
        try:
            if form.decision.data == "verify":
                compliance_documents.verify_item(
                    db, me, listing.provider_id, item_id, form.note.data or None
                )
            else:
                compliance_documents.reject_item(
                    db, me, listing.provider_id, item_id, form.note.data or ""
                )
            flash("Compliance decision recorded.", "success")
        except DomainError as error:
            if error.status == 404:
                raise
            flash(refusal_message(error), "error")
    return redirect(url_for("console.listing", listing_id=listing_id))
