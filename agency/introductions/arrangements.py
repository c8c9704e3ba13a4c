"""Arrangements: the agreed care. Terms change by new versions; any party may pause or end.

Capacity is derived, not stored: a provider's committed hours are the sum of its
live arrangements' current terms (see ``eligibility.committed_hours``), so ending
an arrangement frees the capacity in the same commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, authorize, load, visible_to
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.arrangement_funding import attach_isf_account, isf_account_for
from agency.introductions.events import arrangement_event
from agency.introductions.match_jobs import enqueue_match
from agency.introductions.models import (
    ARRANGEMENT_STATES,
    Arrangement,
    ArrangementStatus,
    ArrangementVersion,
    Introduction,
)
from agency.introductions.request_status import set_request_status
from agency.providers.models import Provider
from agency.schedule import mask_to_hex, windows_to_mask
from agency.seekers.models import CareRequest, RequestStatus
from agency.unit_of_work import unit_of_work
from agency.visits.planning import plan_arrangement
from agency.webhooks.service import emit

A = ArrangementStatus
TERMS = ("version", "rates_pence", "minutes_per_week", "schedule", "effective_from")


def _terms(version: ArrangementVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in TERMS}


def start_arrangement(
    session: Session,
    principal: Principal,
    introduction: Introduction,
    start_date: dt.date | None,
    isf_account_id: str | None,
) -> Arrangement:
    """Record what was agreed (in the caller's transaction) and mark the request matched."""
    care_request = session.get(CareRequest, introduction.care_request_id)
    provider = session.get(Provider, introduction.provider_id)
    assert care_request is not None and provider is not None
    set_request_status(session, principal, care_request, RequestStatus.MATCHED, "arrangement")
    rates = {s.service_key: s.rate_pence for s in provider.services}
    missing = [s for s in care_request.services if s not in rates]
    if missing:
        raise InvalidInput(errors={"services": [f"The provider no longer offers {missing}."]})
    arrangement = Arrangement(
        id=new_id("arr"),
        introduction_id=introduction.id,
        care_request_id=care_request.id,
        seeker_id=care_request.seeker_id,
        provider_id=provider.id,
        agency_id=introduction.agency_id,
        council_id=introduction.council_id,
        partner_client_id=introduction.partner_client_id,
        funding=care_request.funding.value,
        isf_account_id=isf_account_for(
            session, care_request, introduction.agency_id, isf_account_id
        ),
        status=A.ACTIVE,
        start_date=start_date or care_request.start_date,
        current_version=1,
    )
    first = ArrangementVersion(
        id=new_id("arv"),
        version=1,
        services=list(care_request.services),
        rates_pence={s: rates[s] for s in care_request.services},
        minutes_per_week=care_request.minutes_per_week,
        schedule=list(care_request.windows),
        schedule_mask=care_request.windows_mask,
        effective_from=arrangement.start_date,
        created_by=principal.id,
    )
    arrangement.versions = [first]
    session.add(arrangement)
    session.flush()
    record(
        session,
        principal,
        "arrangement.started",
        arrangement,
        None,
        {"status": A.ACTIVE.value, **_terms(first)},
    )
    arrangement_event(session, "arrangement.started", arrangement)
    _plan(session, arrangement)
    emit(
        session,
        "care_request.matched",
        care_request.partner_client_id,
        {
            "care_request_id": care_request.id,
            "status": care_request.status.value,
            "arrangement_id": arrangement.id,
        },
    )
    return arrangement


def _load_for_update(
    session: Session, principal: Principal, arrangement_id: str, action: Action
) -> Arrangement:
    return load(session, principal, Arrangement, arrangement_id, action, for_update=True)


def get_arrangement(session: Session, principal: Principal, arrangement_id: str) -> Arrangement:
    arrangement = session.get(Arrangement, arrangement_id)
    if arrangement is None:
        raise NotFound(f"No arrangement with id {arrangement_id}.")
    authorize(principal, Action.READ, arrangement)
    return arrangement


def change_status(
    session: Session,
    principal: Principal,
    arrangement_id: str,
    target: ArrangementStatus,
    reason: str | None,
    *,
    reopen_request: bool = False,
) -> Arrangement:
    """Pause, resume or end; ending may reopen the request and queue a fresh match."""
    with unit_of_work(session) as uow:
        arrangement = _load_for_update(session, principal, arrangement_id, Action.WRITE)
        before = ARRANGEMENT_STATES.move(arrangement, target)
        if target is A.ENDED:
            arrangement.ended_at = utcnow()
            arrangement.end_reason = reason
        action = {
            A.PAUSED: "arrangement.paused",
            A.ACTIVE: "arrangement.resumed",
            A.ENDED: "arrangement.ended",
        }[target]
        record(
            session,
            principal,
            action,
            arrangement,
            {"status": before.value},
            {"status": target.value, "reason": reason},
        )
        arrangement_event(
            session,
            "arrangement.ended" if target is A.ENDED else "arrangement.changed",
            arrangement,
        )
        if target is A.ENDED and reopen_request:
            care_request = session.get(CareRequest, arrangement.care_request_id)
            assert care_request is not None
            set_request_status(session, principal, care_request, RequestStatus.OPEN, reason)

            enqueue_match(session, care_request)
        _plan(session, arrangement)
        uow.commit()
        return arrangement


def new_version(
    session: Session, principal: Principal, arrangement_id: str, changes: dict[str, Any]
) -> Arrangement:
    """New terms from ``effective_from``; earlier versions are kept unchanged."""
    with unit_of_work(session) as uow:
        arrangement = _load_for_update(session, principal, arrangement_id, Action.WRITE)
        if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
            raise Forbidden("Only the agency's manager changes the terms.")
        if arrangement.status is A.ENDED:
            # Raises illegal_transition naming "ended".
            ARRANGEMENT_STATES.move(arrangement, A.ENDED)
        isf_before = arrangement.isf_account_id
        if changes.get("isf_account_id"):
            attach_isf_account(session, arrangement, changes["isf_account_id"])
        current = arrangement.terms
        rates = changes.get("rates_pence", current.rates_pence)
        if set(rates) != set(current.services):
            each = f"Give a rate for each of {current.services}."
            raise InvalidInput(errors={"rates_pence": [each]})
        schedule = changes.get("schedule", current.schedule)
        effective_from = changes["effective_from"]
        if effective_from < current.effective_from:
            raise InvalidInput(errors={"effective_from": ["Must not precede the current terms."]})
        version = ArrangementVersion(
            id=new_id("arv"),
            arrangement_id=arrangement.id,
            version=arrangement.current_version + 1,
            services=list(current.services),
            rates_pence=dict(rates),
            minutes_per_week=changes.get("minutes_per_week", current.minutes_per_week),
            schedule=schedule,
            schedule_mask=mask_to_hex(windows_to_mask(schedule, "schedule")),
            effective_from=effective_from,
            created_by=principal.id,
            change_reason=changes["change_reason"],
        )
        arrangement.versions.append(version)
        arrangement.current_version = version.version
        record(
            session,
            principal,
            "arrangement.changed",
            arrangement,
            {**_terms(current), "isf_account_id": isf_before},
            {
                **_terms(version),
                "change_reason": version.change_reason,
                "isf_account_id": arrangement.isf_account_id,
            },
        )
        arrangement_event(session, "arrangement.changed", arrangement)
        _plan(session, arrangement)
        uow.commit()
        return arrangement


def _plan(session: Session, arrangement: Arrangement) -> None:
    """Future planned visits follow the new terms or status (past ones stay as they were)."""
    plan_arrangement(session, arrangement)


def arrangements_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    stmt = (
        select(Arrangement)
        .where(visible_to(Arrangement, principal))
        .order_by(Arrangement.created_at.desc(), Arrangement.id)
    )
    for name in ("status", "care_request_id", "provider_id"):
        if filters.get(name):
            stmt = stmt.where(getattr(Arrangement, name) == filters[name])
    return stmt
