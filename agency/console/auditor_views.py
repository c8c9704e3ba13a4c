"""The auditor's pages (and the audit log, which managers read too): the ISF register,
statements, the approved-provider register and its decisions, the audit chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from agency.access import Kind
from agency.audit import checkpoints
from agency.audit import service as audit
from agency.audit.models import AuditEntry
from agency.console.blueprint import bp, principal, refusal_message, staff
from agency.console.forms import IsfApprovalForm
from agency.csv_format import pounds
from agency.errors import DomainError
from agency.isf import isf_accounts, register
from agency.isf.models import IsfAccount
from agency.isf.register_routes import ApprovedProviderSchema
from agency.providers import vetting
from agency.web import csv_response, db_session

AUDIT_PAGE = 50
# Entries a view of the audit log verifies (about 50 us each: a tenth of a second); the
# hourly checkpoint verifies the rest, and the page says how many it left.
AUDIT_VERIFY_PER_VIEW = 2000


@bp.route("/register", endpoint="register")
@staff(Kind.AUDITOR, Kind.MANAGER)
def register_page() -> str:
    db, me = db_session(), principal()
    secret = current_app.extensions["agency"].settings.secret_key
    rows = list(register.register_rows(db, me, secret))
    ids = list(
        db.scalars(
            isf_accounts.isf_accounts_visible_to(me)
            .with_only_columns(IsfAccount.id)
            .order_by(IsfAccount.id)
        )
    )
    return render_template(
        "console/register.html", header=rows[0], rows=rows[1:-1], total=rows[-1], ids=ids
    )


@bp.route("/register.csv")
@staff(Kind.AUDITOR, Kind.MANAGER)
def register_csv() -> Response:
    me = principal()
    extension = current_app.extensions["agency"]

    def rows() -> Iterator[list[object]]:
        with extension.sessionmaker() as session:
            yield from register.register_rows(session, me, extension.settings.secret_key)

    return csv_response(rows(), "isf-register.csv")


@bp.route("/isf-accounts/<isf_account_id>/statement.csv")
@staff(Kind.AUDITOR, Kind.MANAGER)
def statement_csv(isf_account_id: str) -> Response:
    rows = register.statement_rows(db_session(), principal(), isf_account_id)
    return csv_response(rows, f"statement-{isf_account_id}.csv")


@bp.route("/approved-providers")
@staff(Kind.AUDITOR, Kind.MANAGER)
def approved_providers() -> str:
    entries = register.approved_providers(db_session(), principal())
    return render_template(
        "console/approved_providers.html",
        entries=entries,
        can_decide=principal().kind is Kind.AUDITOR,
        form=IsfApprovalForm(),
    )


@bp.route("/approved-providers.csv")
@staff(Kind.AUDITOR, Kind.MANAGER)
def approved_providers_csv() -> Response:
    entries = register.approved_providers(db_session(), principal())
    header = list(ApprovedProviderSchema().fields)
    rows = [header] + [
        [pounds(e[name]) if name.endswith("_pence") else (e[name] or "") for name in header]
        for e in entries
    ]
    return csv_response(rows, "isf-approved-providers.csv")


@bp.route("/approved-providers/<provider_id>/isf-approval", methods=["POST"])
@staff(Kind.AUDITOR)
def record_isf_approval(provider_id: str) -> Response:
    """The one write an auditor may make: the council's ISF-approval decision."""
    form = IsfApprovalForm()
    if not form.validate():
        flash("Record the council's reason for the decision.", "error")
    else:
        me = principal()
        try:
            vetting.record_isf_approval(
                db_session(),
                me,
                provider_id,
                council_id=me.council_id or "",
                approved=form.approved.data,
                reason=form.reason.data,
            )
            flash("The council's decision is recorded.", "success")
        except DomainError as error:
            if error.status == 404:
                raise
            flash(refusal_message(error), "error")
    return redirect(url_for("console.approved_providers") + f"#provider-{provider_id}")


@bp.route("/audit-log")
@staff(Kind.AUDITOR, Kind.MANAGER)
def audit_log() -> str:
    db, me = db_session(), principal()
    stmt = audit.entries_for(me, request.args.get("object_id") or None)
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-total // AUDIT_PAGE))
    page = min(page, pages)
    # Newest first on screen; the chain itself is in sequence order.
    entries = list(
        db.scalars(
            stmt.order_by(None)
            .order_by(AuditEntry.sequence.desc())
            .limit(AUDIT_PAGE)
            .offset((page - 1) * AUDIT_PAGE)
        )
    )
    chain, checkpoint, refused = _verified_chain(db)
    return render_template(
        "console/audit_log.html",
        entries=entries,
        chain=chain,
        checkpoint=checkpoint,
        checkpoint_at=dt.datetime.fromisoformat(checkpoint.at) if checkpoint else None,
        checkpoint_refused=refused,
        per_view=AUDIT_VERIFY_PER_VIEW,
        page=page,
        pages=pages,
        total=total,
    )


def _verified_chain(
    db: Session,
) -> tuple[audit.ChainReport, checkpoints.Checkpoint | None, str | None]:
    """What a page view can afford, never a walk of the whole chain: the latest signed
    checkpoint (its signature checked; the entries up to it were walked before it was
    signed), the entry at its sequence still carrying its hash, and at most
    ``AUDIT_VERIFY_PER_VIEW`` entries after it (from entry 1 without a checkpoint). The
    report counts the entries left ``unverified``; `flask verify-audit` walks them all."""
    settings = current_app.extensions["agency"].settings
    key = settings.audit_signing_key
    checkpoint, refused = None, None
    if settings.audit_checkpoint_dir:
        try:
            checkpoint = checkpoints.latest_checkpoint(settings.audit_checkpoint_dir, key)
        except checkpoints.CheckpointError as error:
            refused = str(error)
    report = audit.verify_chain(
        db, key=key, checkpoint=checkpoint, from_checkpoint=True, limit=AUDIT_VERIFY_PER_VIEW
    )
    return report, checkpoint, refused
