"""Signing in and out: the same users and argon2 passwords as ``POST /auth/token``."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from agency.access import Kind
from agency.accounts import service as accounts
from agency.console.blueprint import STAFF, TOKEN_KEY, bp, principal
from agency.console.forms import PlainForm, SignInForm
from agency.errors import Unauthenticated
from agency.web import db_session
from agency.web.throttle import throttled_sign_in


def _safe_next(target: str | None) -> str:
    # Only a path inside the console: never an open redirect to another site.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@throttled_sign_in  # the same limits as POST /auth/token: failures per account and address
def sign_in() -> str | Response | tuple[str, int]:
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        db = db_session()
        minutes = current_app.config["CONSOLE_SESSION_MINUTES"]
        try:
            pair = accounts.sign_in(
                db, form.email.data, form.password.data, access_minutes=minutes, refresh_days=1
            )
        except Unauthenticated:
            error = "Wrong email or password."
        else:
            staff = accounts.principal_for_user(db, pair.user, token_id=pair.token_id)
            if staff.kind not in STAFF:
                accounts.revoke_token(db, staff)
                error = "The console is for agency managers and council auditors."
            else:
                session.clear()  # a new session id for a new sign-in (no fixation)
                session.permanent = True
                session[TOKEN_KEY] = pair.access_token
                return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("console/sign_in.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    accounts.revoke_token(db_session(), principal())
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("console.sign_in"))


@bp.route("/")
def home() -> Response:
    if principal().kind is Kind.AUDITOR:
        return redirect(url_for("console.register"))
    return redirect(url_for("console.today"))


@bp.app_context_processor
def sign_out_form() -> dict[str, object]:
    return {"sign_out_form": PlainForm}
