"""Money: timesheets to approve, invoices, ISF balances and statements, payment runs, payouts."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from agency.access import Action, Kind, load
from agency.console import queries
from agency.console.blueprint import bp, principal, refusal_message, staff
from agency.console.forms import PlainForm, ReasonForm
from agency.errors import DomainError
from agency.isf import isf_accounts, payment_runs
from agency.isf.models import IsfAccount, PaymentRun
from agency.jobs.models import JobRecord
from agency.privacy import pseudonym
from agency.visits import bulk_approval, invoice_views, timesheets
from agency.visits.schemas import TimesheetApprovalsSchema
from agency.web import db_session

RECENT = 25


def _isf_rows(db, me, limit: int | None = None):  # type: ignore[no-untyped-def]
    stmt = isf_accounts.isf_accounts_visible_to(me).order_by(IsfAccount.created_at, IsfAccount.id)
    if limit:
        stmt = stmt.limit(limit)
    accounts = list(db.scalars(stmt))
    figures = isf_accounts.figures_for(db, [a.id for a in accounts])
    return [(a, figures[a.id]) for a in accounts]


@bp.route("/money")
@staff(Kind.MANAGER)
def money() -> str:
    db, me = db_session(), principal()
    sheets = queries.submitted_timesheets(db, me)
    invoices = list(db.scalars(invoice_views.invoices_for(me, {}).limit(RECENT)))
    return render_template(
        "console/money.html",
        timesheets=sheets,
        invoices=invoices,
        provider_names=queries.provider_names(db, sorted({i.provider_id for i in invoices})),
        isf_rows=_isf_rows(db, me),
        runs=queries.recent_payment_runs(db, me),
        plain_form=PlainForm(),
        reason_form=ReasonForm,
    )


@bp.route("/timesheets/<timesheet_id>/approve", methods=["POST"])
@staff(Kind.MANAGER)
def approve_timesheet(timesheet_id: str) -> Response:
    try:
        timesheets.approve_timesheet(db_session(), principal(), timesheet_id)
        flash("Timesheet approved and invoiced.", "success")
    except DomainError as error:
        if error.status == 404:
            raise
        flash(f"Timesheet not approved: {refusal_message(error)}", "error")
    return redirect(url_for("console.money") + "#timesheets")


@bp.route("/timesheets/approvals", methods=["POST"])
@staff(Kind.MANAGER)
def approve_timesheets() -> Response:
    """Approve the ticked timesheets at once, through the API's bulk approval."""
    try:
        body = TimesheetApprovalsSchema().load(
            {"timesheet_ids": request.form.getlist("timesheet_id")}
        )
    except ma.ValidationError:
        flash("Tick at least one timesheet to approve.", "error")
        return redirect(url_for("console.money") + "#timesheets")
    outcome = bulk_approval.approve_timesheets(db_session(), principal(), body["timesheet_ids"])
    if outcome["approved"]:
        count = len(outcome["approved"])
        flash(f"{count} timesheet{'' if count == 1 else 's'} approved and invoiced.", "success")
    for refusal in outcome["refused"]:
        flash(f"Timesheet not approved: {refusal['message']}", "error")
    return redirect(url_for("console.money") + "#timesheets")


@bp.route("/timesheets/<timesheet_id>/query", methods=["POST"])
@staff(Kind.MANAGER)
def query_timesheet(timesheet_id: str) -> Response:
    form = ReasonForm()
    if not form.validate():
        flash("Give a reason to send a timesheet back.", "error")
    else:
        try:
            timesheets.query_timesheet(db_session(), principal(), timesheet_id, form.reason.data)
            flash("Timesheet sent back to the provider.", "success")
        except DomainError as error:
            if error.status == 404:
                raise
            flash(refusal_message(error), "error")
    return redirect(url_for("console.money") + "#timesheets")


@bp.route("/payment-runs", methods=["POST"])
@staff(Kind.MANAGER)
def start_payment_run() -> Response:
    extension = current_app.extensions["agency"]
    run = payment_runs.start_payment_run(
        db_session(), principal(), extension.jobs, extension.container.gateway.name
    )
    return redirect(url_for("console.payment_run", payment_run_id=run.id))


@bp.route("/payment-runs/<payment_run_id>")
@staff(Kind.MANAGER, Kind.AUDITOR)
def payment_run(payment_run_id: str) -> str:
    db, me = db_session(), principal()
    run = load(db, me, PaymentRun, payment_run_id, Action.READ)
    job = load(db, me, JobRecord, run.job_id, Action.READ) if run.job_id else None
    rows = payment_runs.payouts_of_run(db, me, payment_run_id)
    return render_template(
        "console/payment_run.html",
        run=run,
        job=job,
        payouts=rows,
        provider_names=queries.provider_names(db, sorted({p.provider_id for p in rows})),
        finished=job is None or job.status.value in ("finished", "failed"),
    )


@bp.route("/isf-accounts/<isf_account_id>")
@staff(Kind.MANAGER, Kind.AUDITOR)
def isf_account(isf_account_id: str) -> str:
    db, me = db_session(), principal()
    account = isf_accounts.get_isf_account(db, me, isf_account_id)
    figures = isf_accounts.figures_for(db, [account.id])[account.id]
    lines = isf_accounts.statement(db, me, isf_account_id)
    running, rows = 0, []
    for line in lines:
        running += line["amount_pence"]
        rows.append({**line, "balance_pence": running})
    if me.kind is Kind.AUDITOR:  # the register is pseudonymised for the council
        seeker = pseudonym(current_app.extensions["agency"].settings.secret_key, account.seeker_id)
    else:
        seeker = account.seeker_id
    return render_template(
        "console/isf_account.html", account=account, figures=figures, rows=rows, seeker=seeker
    )
