"""The manager's pages: Today, care requests with explained suggestions, approving introductions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from agency.access import Kind
from agency.console import queries
from agency.console.blueprint import bp, principal, refusal_message, staff
from agency.console.forms import ApproveIntroductionForm, ReasonForm, WhyNotForm
from agency.errors import DomainError
from agency.introductions import approval, matchmaking
from agency.introductions import service as introductions
from agency.introductions.models import IntroductionStatus
from agency.reports import unmet_need
from agency.reports.scope import resolve_scope
from agency.seekers import requests_service
from agency.seekers.models import CareRequest, RequestStatus
from agency.visits import continuity
from agency.visits.visit_rules import london_today
from agency.web import db_session

NEW_REQUEST = (RequestStatus.OPEN, RequestStatus.MATCHING)
AWAITING = (IntroductionStatus.AWAITING_PROVIDER, IntroductionStatus.AWAITING_SEEKER)


def _new_requests(limit: int | None):  # type: ignore[no-untyped-def]
    # Most urgent first; among equals, those with suggestions ready (matching) and the
    # earliest start (then the longest waiting) first, so the top row is the decision to
    # take now.
    stmt = (
        requests_service.care_requests_for(principal(), {})
        .where(CareRequest.status.in_(NEW_REQUEST))
        .order_by(None)
        .order_by(
            requests_service.SORTS["urgency"].desc(),
            CareRequest.status,
            CareRequest.start_date,
            CareRequest.created_at,
            CareRequest.id,
        )
    )
    db = db_session()
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if limit:
        stmt = stmt.limit(limit)
    return list(db.scalars(stmt)), total


@bp.route("/today")
@staff(Kind.MANAGER)
def today() -> str:
    db, me = db_session(), principal()
    requests, request_total = _new_requests(10)
    awaiting = list(
        db.scalars(
            introductions.introductions_for(me, {}).where(
                introductions.Introduction.status.in_(AWAITING)
            )
        )
    )

    unmet = unmet_need.unmet_need(db, resolve_scope(db, me))
    expiring = queries.expiring_compliance(db, me, london_today())

    missed = list(
        db.scalars(
            continuity.planned_visits_for(me, {"status": "missed", "unacknowledged": True}).limit(
                10
            )
        )
    )
    cover_needed = [
        visit
        for visit in db.scalars(
            continuity.planned_visits_for(
                me, {"status": "cancelled", "date_from": london_today()}
            ).limit(50)
        )
        if visit.cover_status is None or visit.cover_status.value == "declined"
    ][:10]
    names = queries.provider_names(
        db,
        sorted({i.provider_id for i in awaiting} | {v.provider_id for v in missed + cover_needed}),
    )
    return render_template(
        "console/today.html",
        requests=requests,
        request_total=request_total,
        awaiting=awaiting,
        provider_names=names,
        unmet=unmet,
        expiring=expiring,
        missed=missed,
        cover_needed=cover_needed,
        services=queries.service_names(db),
    )


@bp.route("/requests")
@staff(Kind.MANAGER)
def care_requests() -> str:
    requests, total = _new_requests(None)
    return render_template(
        "console/requests.html",
        requests=requests,
        total=total,
        services=queries.service_names(db_session()),
    )


def _request_page(request_id: str, form: ApproveIntroductionForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    db, me = db_session(), principal()
    care_request = requests_service.get_care_request(db, me, request_id)
    # The latest ranking, best first (the service lists newest first, then by rank).
    suggestions = sorted(matchmaking.list_suggestions(db, me, request_id), key=lambda s: s.rank)
    names = queries.provider_names(db, [s.provider_id for s in suggestions])
    live = list(db.scalars(introductions.introductions_for(me, {"care_request_id": request_id})))
    plan = None
    if care_request.agency_id:
        try:
            plan = matchmaking.get_plan(db, me, care_request.agency_id, None)
        except DomainError:
            plan = None
    proposals = [
        p for p in (plan.placements if plan else []) if p.get("care_request_id") == request_id
    ]
    why_form = WhyNotForm(request.args, meta={"csrf": False})
    why = None
    if request.args.get("provider_id") and why_form.validate():
        try:
            why = matchmaking.why_not(db, me, request_id, why_form.provider_id.data.strip())
        except DomainError as error:
            why_form.provider_id.errors = [refusal_message(error)]
    return render_template(
        "console/request.html",
        care_request=care_request,
        suggestions=suggestions,
        provider_names={
            **names,
            **queries.provider_names(
                db, [p["provider_id"] for p in proposals] + [i.provider_id for i in live]
            ),
        },
        introductions=live,
        proposals=proposals,
        plan=plan,
        approve_form=form,
        why_form=why_form,
        preferences=_readable_preferences(care_request.preferences or {}),
        why=why,
        services=queries.service_names(db),
        can_write=me.kind is Kind.MANAGER,
    ), status


def _readable_preferences(preferences: dict[str, object]) -> list[tuple[str, str]]:
    """The preferences that say something, in words (no empty lists, no internal ids)."""
    readable = []
    for key, value in preferences.items():
        if not value or key.endswith("_ids"):
            continue
        if value is True:
            text = "yes"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        readable.append((key.replace("_", " ").capitalize(), text))
    return readable


@bp.route("/requests/<request_id>")
@staff(Kind.MANAGER)
def care_request(request_id: str):  # type: ignore[no-untyped-def]
    return _request_page(request_id)


@bp.route("/requests/<request_id>/introductions", methods=["POST"])
@staff(Kind.MANAGER)
def approve_introduction(request_id: str):  # type: ignore[no-untyped-def]
    form = ApproveIntroductionForm()
    if not form.validate():
        return _request_page(request_id, form, 422)
    try:
        introduction = approval.approve_introduction(
            db_session(),
            principal(),
            request_id,
            suggestion_id=form.suggestion_id.data,
            note=form.note.data,
        )
    except DomainError as error:
        if error.status == 404:
            raise
        form.note.errors = [refusal_message(error)]
        return _request_page(request_id, form, 409 if error.status == 409 else 422)
    flash(
        f"Introduction approved: the provider has until "
        f"{introduction.respond_by:%d %b %Y %H:%M} UTC to answer.",
        "success",
    )
    return redirect(url_for("console.care_request", request_id=request_id))


@bp.route("/requests/<request_id>/suggestions/<suggestion_id>/reject", methods=["POST"])
@staff(Kind.MANAGER)
def reject_suggestion(request_id: str, suggestion_id: str) -> Response:
    form = ReasonForm()
    if form.validate():
        try:
            approval.reject_suggestion(db_session(), principal(), suggestion_id, form.reason.data)
            flash("Suggestion set aside.", "success")
        except DomainError as error:
            if error.status == 404:
                raise
            flash(refusal_message(error), "error")
    else:
        flash("Give a reason to set a suggestion aside.", "error")
    return redirect(url_for("console.care_request", request_id=request_id))
