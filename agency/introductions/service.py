"""Introductions after approval: the provider answers, the seeker (via its partner) confirms,
the manager withdraws; approval itself is ``introductions.approval``.

Every change goes through the state machines in ``models``, is audited and,
where the partner cares, owed as a webhook, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, Forbidden
from agency.introductions.arrangements import start_arrangement
from agency.introductions.events import introduction_event
from agency.introductions.models import (
    INTRODUCTION_STATES,
    Introduction,
    IntroductionStatus,
)
from agency.unit_of_work import unit_of_work

I = IntroductionStatus  # noqa: E741


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
    with unit_of_work(session) as uow:
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
        uow.commit()
        return introduction


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
    with unit_of_work(session) as uow:
        introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
        if not confirm:
            transition(
                session, principal, introduction, I.SEEKER_DECLINED, "introduction.declined", reason
            )
            introduction.seeker_responded_at = utcnow()
            introduction_event(session, "introduction.declined", introduction)
            uow.commit()
            return introduction
        transition(session, principal, introduction, I.CONFIRMED, "introduction.confirmed")
        introduction.seeker_responded_at = utcnow()
        start_arrangement(session, principal, introduction, start_date, isf_account_id)
        uow.commit()
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


def withdraw(
    session: Session, principal: Principal, introduction_id: str, reason: str
) -> Introduction:
    with unit_of_work(session) as uow:
        introduction = load(session, principal, Introduction, introduction_id, Action.WRITE)
        transition(session, principal, introduction, I.WITHDRAWN, "introduction.withdrawn", reason)
        uow.commit()
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
