"""Introductions: a manager approves, the provider answers, the seeker (via its partner) confirms.

Every change goes through the state machines in ``models``, is audited and,
where the partner cares, owed as a webhook, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, authorize, load, visible_to
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.arrangements import start_arrangement
from agency.introductions.eligibility import failed_constraints
from agency.introductions.events import introduction_event
from agency.introductions.models import (
    INTRODUCTION_STATES,
    SUGGESTION_STATES,
    Introduction,
    IntroductionStatus,
    Suggestion,
)
from agency.introductions.models import SuggestionStatus as S
from agency.introductions.workflow import LIVE_INTRODUCTION, commit, guarded
from agency.providers.models import Provider
from agency.seekers.models import CareRequest, RequestStatus
from agency.state_machine import IllegalTransition

I = IntroductionStatus  # noqa: E741
LONDON = ZoneInfo("Europe/London")  # dates of care are London dates
OPEN_REQUEST = frozenset({RequestStatus.OPEN, RequestStatus.MATCHING})


def _lock_request(session: Session, principal: Principal, care_request_id: str) -> CareRequest:
    # FOR UPDATE (PostgreSQL): a second approval for this request waits, then sees the first.
    care_request = session.scalar(
        select(CareRequest)
        .where(CareRequest.id == care_request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if care_request is None:
        raise NotFound(f"No care request with id {care_request_id}.")
    authorize(principal, Action.WRITE, care_request)
    return care_request


def _pick_provider(
    session: Session,
    care_request: CareRequest,
    suggestion_id: str | None,
    provider_id: str | None,
    off_list_reason: str | None,
) -> tuple[Provider, Suggestion | None]:
    if suggestion_id:
        suggestion = session.get(Suggestion, suggestion_id)
        if suggestion is None or suggestion.care_request_id != care_request.id:
            raise InvalidInput(errors={"suggestion_id": ["Not a suggestion for this request."]})
        if suggestion.status is not S.ACTIVE:
            # Approved twice: the same conflict as naming the provider by id, so the same code.
            _refuse_live_introduction(session, care_request.id, suggestion.provider_id)
            raise IllegalTransition(
                f"The suggestion is {suggestion.status.value}.",
                current_status=suggestion.status.value,
            )
    else:
        suggestion = session.scalar(
            select(Suggestion).where(
                Suggestion.care_request_id == care_request.id,
                Suggestion.provider_id == provider_id,
                Suggestion.status == S.ACTIVE,
            )
        )
        if suggestion is None and not off_list_reason:
            raise InvalidInput(
                errors={"off_list_reason": ["Say why you introduce a provider not suggested."]}
            )
    provider = session.get(Provider, suggestion.provider_id if suggestion else provider_id)
    if provider is None or not any(
        listing.agency_id == care_request.agency_id for listing in provider.listings
    ):
        # As why-not answers: another agency's provider is hidden like a missing one (no
        # 409 listing its compliance or distance to a manager who may not know it exists).
        raise NotFound(f"No provider with id {provider_id} is listed with this request's agency.")
    return provider, suggestion


def _refuse_live_introduction(session: Session, care_request_id: str, provider_id: str) -> None:
    """409 ``introduction_exists`` while an introduction of this provider to this request lives."""
    live = session.scalar(
        select(Introduction.id).where(
            Introduction.care_request_id == care_request_id,
            Introduction.provider_id == provider_id,
            Introduction.status.in_(LIVE_INTRODUCTION),
        )
    )
    if live:
        raise Conflict(
            f"Introduction {live} to this provider is still live.", code="introduction_exists"
        )


@guarded
def approve_introduction(
    session: Session,
    principal: Principal,
    care_request_id: str,
    *,
    suggestion_id: str | None = None,
    provider_id: str | None = None,
    off_list_reason: str | None = None,
    note: str | None = None,
    respond_within_hours: int = 72,
    now: dt.datetime | None = None,
) -> Introduction:
    """Introduce a provider to a request after re-checking the hard constraints now."""
    now = now or utcnow()
    care_request = _lock_request(session, principal, care_request_id)
    if care_request.agency_id is None:
        raise Conflict("No agency covers this care request yet.", code="request_not_routed")
    if care_request.status not in OPEN_REQUEST:
        raise Conflict(
            f"The care request is {care_request.status.value}.",
            code="request_not_open",
            current_status=care_request.status.value,
        )
    provider, suggestion = _pick_provider(
        session, care_request, suggestion_id, provider_id, off_list_reason
    )
    _refuse_live_introduction(session, care_request.id, provider.id)
    failed = failed_constraints(session, care_request, provider, now.astimezone(LONDON).date())
    if failed:
        raise Conflict(
            "The provider no longer meets this request: " + ", ".join(failed) + ".",
            code="constraint_failed",
            constraints=failed,
        )
    introduction = Introduction(
        id=new_id("itr"),
        care_request_id=care_request.id,
        provider_id=provider.id,
        suggestion_id=suggestion.id if suggestion else None,
        agency_id=care_request.agency_id,
        council_id=care_request.council_id,
        partner_client_id=care_request.partner_client_id,
        status=I.AWAITING_PROVIDER,
        note=note,
        off_list_reason=None if suggestion else off_list_reason,
        approved_by=principal.id,
        respond_by=now + dt.timedelta(hours=respond_within_hours),
    )
    session.add(introduction)
    if suggestion is not None:
        SUGGESTION_STATES.move(suggestion, S.INTRODUCED)
    care_request.updated_at = now  # bumps the request's version: a racing approval conflicts
    session.flush()
    record(
        session,
        principal,
        "introduction.approved",
        introduction,
        None,
        {
            "status": introduction.status.value,
            "provider_id": provider.id,
            "suggestion_id": introduction.suggestion_id,
            "respond_by": introduction.respond_by,
        },
    )
    introduction_event(session, "introduction.approved", introduction)
    commit(session)
    return introduction


@guarded
def reject_suggestion(
    session: Session, principal: Principal, suggestion_id: str, reason: str
) -> Suggestion:
    suggestion = load(session, principal, Suggestion, suggestion_id, Action.WRITE)
    before = SUGGESTION_STATES.move(suggestion, S.REJECTED)
    suggestion.status_reason = reason
    record(
        session,
        principal,
        "suggestion.rejected",
        suggestion,
        {"status": before.value},
        {"status": S.REJECTED.value, "reason": reason},
    )
    commit(session)
    return suggestion


def transition(
    session: Session,
    principal: Principal | None,
    introduction: Introduction,
    target: IntroductionStatus,
    action: str,
    reason: str | None = None,
) -> None:
    before = INTRODUCTION_STATES.move(introduction, target)
    if reason is not None:
        introduction.decline_reason = reason
    record(
        session,
        principal,
        action,
        introduction,
        {"status": before.value},
        {"status": target.value, "reason": reason},
    )


@guarded
def provider_answer(
    session: Session,
    principal: Principal,
    introduction_id: str,
    *,
    accept: bool,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Introduction:
    """The provider accepts or declines, before ``respond_by``."""
    now = now or utcnow()
    introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
    if introduction.status is I.AWAITING_PROVIDER and now > introduction.respond_by:
        raise Conflict(
            "The time to answer this introduction has passed.",
            code="response_deadline_passed",
            current_status=introduction.status.value,
        )
    target = I.AWAITING_SEEKER if accept else I.PROVIDER_DECLINED
    action = "introduction.accepted" if accept else "introduction.declined"
    transition(session, principal, introduction, target, action, None if accept else reason)
    introduction.provider_responded_at = now
    introduction_event(session, action, introduction)
    commit(session)
    return introduction


@guarded
def seeker_answer(
    session: Session,
    principal: Principal,
    introduction_id: str,
    *,
    confirm: bool,
    reason: str | None = None,
    start_date: dt.date | None = None,
    isf_account_id: str | None = None,
) -> Introduction:
    """The seeker, through its partner, confirms (an arrangement starts) or declines."""
    introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
    if not confirm:
        transition(
            session, principal, introduction, I.SEEKER_DECLINED, "introduction.declined", reason
        )
        introduction.seeker_responded_at = utcnow()
        introduction_event(session, "introduction.declined", introduction)
        commit(session)
        return introduction
    transition(session, principal, introduction, I.CONFIRMED, "introduction.confirmed")
    introduction.seeker_responded_at = utcnow()
    start_arrangement(session, principal, introduction, start_date, isf_account_id)
    commit(session)
    return introduction


def decline(
    session: Session, principal: Principal, introduction_id: str, reason: str
) -> Introduction:
    """Decline on behalf of whoever is asked now: the provider, or the seeker's partner."""
    if principal.kind is Kind.PROVIDER:
        return provider_answer(session, principal, introduction_id, accept=False, reason=reason)
    if principal.kind is Kind.PARTNER:
        return seeker_answer(session, principal, introduction_id, confirm=False, reason=reason)
    introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
    if principal.kind is not Kind.ADMIN:
        raise Forbidden("Only the provider or the seeker's partner may decline.")
    if introduction.status is I.AWAITING_PROVIDER:
        return provider_answer(session, principal, introduction_id, accept=False, reason=reason)
    return seeker_answer(session, principal, introduction_id, confirm=False, reason=reason)


@guarded
def withdraw(
    session: Session, principal: Principal, introduction_id: str, reason: str
) -> Introduction:
    introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
    transition(session, principal, introduction, I.WITHDRAWN, "introduction.withdrawn", reason)
    commit(session)
    return introduction


def introductions_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """The introductions a principal may list, filtered, newest first."""
    stmt = (
        select(Introduction)
        .where(visible_to(Introduction, principal))
        .order_by(Introduction.created_at.desc(), Introduction.id)
    )
    for name in ("status", "care_request_id", "provider_id"):
        if filters.get(name):
            stmt = stmt.where(getattr(Introduction, name) == filters[name])
    return stmt
