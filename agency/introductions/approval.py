"""A manager introduces a provider to a care request (from a suggestion or off the list),
or rejects a suggestion; the provider and the seeker answer in ``introductions.service``.

Every change goes through the state machines in ``models``, is audited and,
where the partner cares, owed as a webhook, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Action, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Conflict, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.eligibility import failed_constraints
from agency.introductions.events import introduction_event
from agency.introductions.models import (
    SUGGESTION_STATES,
    Introduction,
    IntroductionStatus,
    Suggestion,
)
from agency.introductions.models import SuggestionStatus as S
from agency.introductions.workflow import LIVE_INTRODUCTION
from agency.providers.models import Provider
from agency.seekers.models import CareRequest, RequestStatus
from agency.state_machine import IllegalTransition
from agency.unit_of_work import unit_of_work

I = IntroductionStatus  # noqa: E741
LONDON = ZoneInfo("Europe/London")  # dates of care are London dates
OPEN_REQUEST = frozenset({RequestStatus.OPEN, RequestStatus.MATCHING})


def _lock_request(session: Session, principal: Principal, care_request_id: str) -> CareRequest:
    # Locked: a second approval for this request waits, then sees the first.
    return load(session, principal, CareRequest, care_request_id, Action.WRITE, for_update=True)


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
    with unit_of_work(session) as uow:
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
        uow.commit()
        return introduction


def reject_suggestion(
    session: Session, principal: Principal, suggestion_id: str, reason: str
) -> Suggestion:
    with unit_of_work(session) as uow:
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
        uow.commit()
        return suggestion
