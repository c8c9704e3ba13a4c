"""Cover when a provider is away (their availability exceptions) or has cancelled.

The affected planned visits are found from the provider's time off and cancellations.
For one visit the engine proposes cover exactly as it matches a request
(``matching.top_k``: the same hard constraints, the provider pool of that date, which
already leaves out providers away that day), for that visit's window and length only.
Continuity counts: providers who already know the seeker (named on the request, or
with an arrangement with them) get the engine's ``known`` feature. Providers with
another planned visit at that time are left out. The manager offers cover (one visit,
or every affected visit of the absence the chosen provider can take); the cover
provider accepts or declines. A visit with accepted cover is not marked missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict
from math import isfinite
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

import matching
from agency.access import Action, Kind, Principal, load, visible_to
from agency.audit.service import record
from agency.dates import LONDON
from agency.db import utcnow
from agency.directory.models import Agency
from agency.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.introductions.pools import agency_weights, build_pool, request_spec
from agency.providers.models import (
    AvailabilityException,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.schedule import windows_to_mask
from agency.seekers.models import CareRequest, CareSeeker
from agency.unit_of_work import unit_of_work
from agency.visits import visits as visit_service
from agency.visits.continuity import listed_here, on_or_after
from agency.visits.models import Visit
from agency.visits.planned_models import (
    BackupProvider,
    CoverStatus,
    PlannedStatus,
    PlannedVisit,
    TeamMember,
)
from agency.visits.planning import LONGEST_PLANNED_VISIT

COVER_K = 5
BACKUP_DEPTH = 200
P, C = PlannedStatus, CoverStatus


def _manager(principal: Principal) -> None:
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("Cover is arranged by the agency's manager.")


def affected_visits(session: Session, principal: Principal, provider_id: str) -> Select[Any]:
    """The provider's planned visits from today that fall in their time off, or that they
    cancelled, at the manager's agency (with any cover offered or accepted)."""
    _manager(principal)
    provider = session.get(Provider, provider_id)
    if provider is None or (
        principal.kind is Kind.MANAGER and not listed_here(session, principal, provider)
    ):
        raise NotFound(f"No provider with id {provider_id}.")
    today = dt.datetime.now(LONDON).date()
    away = exists().where(
        AvailabilityException.provider_id == PlannedVisit.provider_id,
        AvailabilityException.starts_on <= PlannedVisit.date,
        AvailabilityException.ends_on >= PlannedVisit.date,
    )
    return (
        select(PlannedVisit)
        .where(
            PlannedVisit.provider_id == provider_id,
            visible_to(PlannedVisit, principal),
            on_or_after(today),
            or_(
                and_(PlannedVisit.status == P.PLANNED, away),
                PlannedVisit.status == P.CANCELLED,
            ),
        )
        .order_by(PlannedVisit.starts_at, PlannedVisit.id)
    )


def _coverable(session: Session, principal: Principal, planned_id: str) -> PlannedVisit:
    planned = load(session, principal, PlannedVisit, planned_id, Action.WRITE)
    _manager(principal)
    if planned.status not in (P.PLANNED, P.CANCELLED) or planned.starts_at <= utcnow():
        raise Conflict(
            "Cover is arranged for a visit still to come.",
            code="visit_not_coverable",
            current_status=planned.status.value,
        )
    return planned


def _known_providers(session: Session, seeker_id: str) -> set[str]:
    return set(
        session.scalars(select(Arrangement.provider_id).where(Arrangement.seeker_id == seeker_id))
    )


def _busy(session: Session, planned: PlannedVisit, provider_ids: list[str]) -> set[str]:
    """Of ``provider_ids``, those with a planned visit (own or cover) overlapping this one."""
    # A planned visit still going when this one starts began less than the longest a planned
    # visit lasts before it: the lower bound loses none, and keeps the (provider_id,
    # starts_at) and (cover_provider_id, starts_at) index ranges (one per side of the OR)
    # to about a day instead of each provider's whole plan.
    earliest = planned.starts_at - LONGEST_PLANNED_VISIT
    overlapping = select(PlannedVisit.provider_id, PlannedVisit.cover_provider_id).where(
        PlannedVisit.id != planned.id,
        PlannedVisit.starts_at > earliest,
        PlannedVisit.starts_at < planned.ends_at,
        PlannedVisit.ends_at > planned.starts_at,
        PlannedVisit.status != P.CANCELLED,
        or_(
            PlannedVisit.provider_id.in_(provider_ids),
            PlannedVisit.cover_provider_id.in_(provider_ids),
        ),
    )
    busy = set()
    for own, cover in session.execute(overlapping):
        busy.update(p for p in (own, cover) if p in provider_ids)
    return busy


def _slot_bounds(planned: PlannedVisit) -> dict[str, str]:
    """The visit's window on the matcher's 30-minute slots: every slot it touches (a visit
    planned 09:00-09:25 asks for a provider free 09:00-09:30)."""

    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    slot = matching.availability.SLOT_MINUTES
    start = minutes(planned.start_time) // slot * slot
    end = min(-(-minutes(planned.end_time) // slot) * slot, 24 * 60)
    return {
        "start": f"{start // 60:02d}:{start % 60:02d}",
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }


def _number(value: float) -> float | None:
    return round(value, 6) if isfinite(value) else None


def suggest_cover(
    session: Session, principal: Principal, planned_id: str, k: int = COVER_K
) -> list[dict[str, Any]]:
    """The k best providers to cover one visit, best first, each with the engine's
    explanation and whether they already know the seeker."""
    planned = _coverable(session, principal, planned_id)
    return _ranked(session, planned, k)


def _ranked(session: Session, planned: PlannedVisit, k: int) -> list[dict[str, Any]]:
    arrangement = session.get(Arrangement, planned.arrangement_id)
    care_request = session.get(CareRequest, arrangement.care_request_id) if arrangement else None
    assert arrangement is not None and care_request is not None
    team = team_of(session, arrangement.id)
    known = (_known_providers(session, planned.seeker_id) - {planned.provider_id}) | set(
        request_spec(care_request).known_provider_ids
    )
    known |= set(team)  # the arrangement's team know the seeker: the engine's continuity
    window = {"weekday": planned.date.weekday(), **_slot_bounds(planned)}
    spec = dataclasses.replace(
        request_spec(care_request),
        request_id=planned.id,
        services=tuple(arrangement.terms.services),
        windows=windows_to_mask([window], "window"),
        hours_per_week=planned.minutes / 60,
        min_window_share=1.0,
        start_date=planned.date,
        known_provider_ids=frozenset(known),
    )
    pool = build_pool(session, arrangement.agency_id, planned.date)
    agency = session.get(Agency, arrangement.agency_id)
    backup = session.scalar(
        select(BackupProvider.provider_id).where(BackupProvider.seeker_id == planned.seeker_id)
    )
    # Deep enough that an eligible named backup is found wherever the engine ranks them.
    depth = max(k + 1, BACKUP_DEPTH) if backup or team else k + 1
    ranked = matching.top_k(pool, spec, k=depth, weights=agency_weights(agency))
    ranked = [s for s in ranked if s.provider_id != planned.provider_id]
    busy = _busy(session, planned, [s.provider_id for s in ranked])
    ranked = [s for s in ranked if s.provider_id not in busy]
    # The seeker's named backup first when eligible and free; the engine's order otherwise.
    ranked = sorted(ranked, key=lambda s: s.provider_id != backup)[:k]
    return [
        {
            "provider_id": s.provider_id,
            "rank": rank,
            "score": _number(float(s.score)),
            "knows_seeker": s.provider_id in known,
            "backup": s.provider_id == backup,
            "team": s.provider_id in team,
            "explanation": {
                name: {key: _number(float(v)) for key, v in asdict(part).items()}
                for name, part in s.explanation.items()
            },
        }
        for rank, s in enumerate(ranked, start=1)
    ]


def offer_cover(
    session: Session, principal: Principal, planned_id: str, provider_id: str
) -> PlannedVisit:
    """The manager offers one visit to a provider the engine proposes for it."""
    with unit_of_work(session) as uow:
        planned = _coverable(session, principal, planned_id)
        _offer(session, principal, planned, provider_id, strict=True)
        uow.commit()
        return planned


def offer_absence_cover(
    session: Session, principal: Principal, absent_provider_id: str, provider_id: str
) -> list[PlannedVisit]:
    """The manager offers every affected visit of the absence that ``provider_id`` is
    proposed for (the others are left for another provider)."""
    with unit_of_work(session) as uow:
        stmt = affected_visits(session, principal, absent_provider_id)
        offered = []
        for planned in session.scalars(stmt).all():
            if planned.cover_status in (C.OFFERED, C.ACCEPTED) or planned.starts_at <= utcnow():
                continue
            if _offer(session, principal, planned, provider_id, strict=False):
                offered.append(planned)
        if not offered:
            raise InvalidInput(
                errors={"provider_id": ["Not proposed as cover for any affected visit."]}
            )
        uow.commit()
        return offered


def _offer(
    session: Session, principal: Principal, planned: PlannedVisit, provider_id: str, strict: bool
) -> bool:
    if planned.cover_status is C.ACCEPTED:
        raise Conflict("The visit already has cover.", code="already_covered")
    proposed = {s["provider_id"] for s in _ranked(session, planned, COVER_K * 4)}
    if provider_id not in proposed:
        if strict:
            raise InvalidInput(errors={"provider_id": ["Not proposed as cover for this visit."]})
        return False
    before = {"cover_provider_id": planned.cover_provider_id}
    planned.cover_provider_id, planned.cover_status = provider_id, C.OFFERED
    planned.cover_rates_pence = cover_rates(session, planned, provider_id)
    planned.cover_offered_by, planned.cover_answered_at = principal.id, None
    record(
        session,
        principal,
        "planned_visit.cover_offered",
        planned,
        before,
        {"cover_provider_id": provider_id, "cover_rates_pence": planned.cover_rates_pence},
    )
    session.flush()
    return True


def cover_rates(session: Session, planned: PlannedVisit, provider_id: str) -> dict[str, int]:
    """The cover provider's own hourly rate (their listed rate, as an arrangement agrees
    one) for each service of the arrangement they offer."""
    arrangement = session.get(Arrangement, planned.arrangement_id)
    assert arrangement is not None
    wanted = set(arrangement.terms.services)
    rows = session.execute(
        select(ProviderService.service_key, ProviderService.rate_pence).where(
            ProviderService.provider_id == provider_id, ProviderService.service_key.in_(wanted)
        )
    )
    return {key: int(rate) for key, rate in rows}


def _cover_of_provider(
    session: Session,
    principal: Principal,
    planned_id: str,
    status: CoverStatus,
    *,
    forbidden: str,
    conflict: str,
    code: str,
) -> PlannedVisit:
    """The planned visit whose cover the calling provider holds, with its cover in
    ``status``: 403 ``forbidden`` for other principals, 404 for anyone else's, 409 ``code``."""
    if principal.kind is not Kind.PROVIDER:
        raise Forbidden(forbidden)
    planned = session.get(PlannedVisit, planned_id)
    if planned is None or planned.cover_provider_id != principal.provider_id:
        raise NotFound(f"No planned visit with id {planned_id}.")
    if planned.cover_status is not status:
        raise Conflict(
            conflict,
            code=code,
            current_status=planned.cover_status.value if planned.cover_status else None,
        )
    return planned


def _offered_to(session: Session, principal: Principal, planned_id: str) -> PlannedVisit:
    return _cover_of_provider(
        session,
        principal,
        planned_id,
        C.OFFERED,
        forbidden="Cover is answered by the provider it was offered to.",
        conflict="The cover is not waiting for an answer.",
        code="cover_not_offered",
    )


def answer_cover(
    session: Session, principal: Principal, planned_id: str, accept: bool
) -> PlannedVisit:
    """The cover provider accepts (the visit is theirs to make) or declines."""
    with unit_of_work(session) as uow:
        planned = _offered_to(session, principal, planned_id)
        planned.cover_status = C.ACCEPTED if accept else C.DECLINED
        planned.cover_answered_at = utcnow()
        record(
            session,
            principal,
            "planned_visit.cover_accepted" if accept else "planned_visit.cover_declined",
            planned,
            {"cover_status": C.OFFERED.value},
            {"cover_status": planned.cover_status.value},
        )
        uow.commit()
        return planned


def cover_offers_for(principal: Principal) -> Select[Any]:
    """Cover offered to or accepted by the calling provider, from today."""
    if principal.kind is not Kind.PROVIDER:
        raise Forbidden("Cover offers are a provider's.")
    today = dt.datetime.now(LONDON).date()
    return (
        select(PlannedVisit)
        .where(
            PlannedVisit.cover_provider_id == principal.provider_id,
            PlannedVisit.cover_status.in_((C.OFFERED, C.ACCEPTED)),
            on_or_after(today),
        )
        .order_by(PlannedVisit.starts_at, PlannedVisit.id)
    )


def get_backup_provider(session: Session, principal: Principal, seeker_id: str) -> dict[str, Any]:
    """The seeker's named backup provider (None when they have not named one)."""
    seeker = load(session, principal, CareSeeker, seeker_id, Action.READ)
    if principal.kind not in (Kind.PARTNER, Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("A seeker's backup provider is for their partner and manager.")
    provider_id = session.scalar(
        select(BackupProvider.provider_id).where(BackupProvider.seeker_id == seeker.id)
    )
    return {"seeker_id": seeker.id, "provider_id": provider_id}


def set_backup_provider(
    session: Session, principal: Principal, seeker_id: str, provider_id: str | None
) -> dict[str, Any]:
    """The partner names (or, with None, clears) the seeker's backup provider; audited."""
    seeker = load(session, principal, CareSeeker, seeker_id, Action.WRITE)
    if principal.kind not in (Kind.PARTNER, Kind.ADMIN):
        raise Forbidden("The seeker's partner names their backup provider.")
    if provider_id is not None and session.get(Provider, provider_id) is None:
        raise InvalidInput(errors={"provider_id": ["No such provider."]})
    row = session.scalar(select(BackupProvider).where(BackupProvider.seeker_id == seeker.id))
    before = {"provider_id": row.provider_id if row else None}
    with unit_of_work(session) as uow:
        if provider_id is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            row = BackupProvider(
                id=new_id("bkp"), seeker_id=seeker.id, provider_id=provider_id, set_by=principal.id
            )
            session.add(row)
        else:
            row.provider_id, row.set_by, row.created_at = provider_id, principal.id, utcnow()
        session.flush()
        record(
            session,
            principal,
            "care_seeker.backup_provider",
            seeker,
            before,
            {"provider_id": provider_id},
        )
        uow.commit()
    return {"seeker_id": seeker.id, "provider_id": provider_id}


# Paying cover: the cover provider logs the visit; it goes on their own timesheet, at
# their rates, charged to the same ISF (agency.visits.timesheets, agency.visits.pricing).


def covered_arrangement(
    session: Session, principal: Principal, arrangement_id: str
) -> Arrangement | None:
    """The arrangement when the calling provider is not its provider but accepted cover on
    it (they submit a timesheet of their cover visits); None otherwise."""
    if principal.kind is not Kind.PROVIDER:
        return None
    arrangement = session.get(Arrangement, arrangement_id)
    if arrangement is None or arrangement.provider_id == principal.provider_id:
        return None
    accepted = session.scalar(
        select(PlannedVisit.id)
        .where(
            PlannedVisit.arrangement_id == arrangement_id,
            PlannedVisit.cover_provider_id == principal.provider_id,
            PlannedVisit.cover_status == C.ACCEPTED,
        )
        .limit(1)
    )
    return arrangement if accepted else None


def log_cover_visit(
    session: Session,
    principal: Principal,
    planned_id: str,
    fields: dict[str, Any],
    *,
    today: dt.date | None = None,
) -> Visit:
    """The cover provider logs the visit they made for an accepted cover (on its date);
    it is theirs (their timesheet), priced at the rates fixed when cover was offered."""
    with unit_of_work(session) as uow:
        planned = _cover_of_provider(
            session,
            principal,
            planned_id,
            C.ACCEPTED,
            forbidden="A cover visit is logged by the provider who accepted the cover.",
            conflict="The cover was not accepted.",
            code="cover_not_accepted",
        )
        if planned.visit_id is not None:
            raise Conflict("A visit is already logged for it.", code="visit_already_logged")
        arrangement = session.get(Arrangement, planned.arrangement_id)
        assert arrangement is not None
        visit = visit_service.add_logged_visit(
            session,
            principal,
            arrangement,
            {**fields, "date": planned.date},
            today,
            provider_id=principal.provider_id,
            cover_rates_pence=dict(planned.cover_rates_pence or {}),
        )
        planned.visit_id, planned.status = visit.id, P.DONE
        record(
            session,
            principal,
            "visit.logged",
            visit,
            None,
            {**visit_service._audit_view(visit), "cover_for": planned.id},
        )
        uow.commit()
        return visit


# An arrangement's small team (Equal Care's teams): other providers who know the seeker.

MAX_TEAM = 4


def team_of(session: Session, arrangement_id: str) -> list[str]:
    return list(
        session.scalars(
            select(TeamMember.provider_id)
            .where(TeamMember.arrangement_id == arrangement_id)
            .order_by(TeamMember.created_at, TeamMember.provider_id)
        )
    )


def get_team(session: Session, principal: Principal, arrangement_id: str) -> dict[str, Any]:
    """The arrangement's team, for its manager, partner and provider."""
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    if principal.kind is Kind.AUDITOR:
        raise Forbidden("An arrangement's team is for its parties and manager.")
    return {"arrangement_id": arrangement.id, "provider_ids": team_of(session, arrangement.id)}


def set_team(
    session: Session, principal: Principal, arrangement_id: str, provider_ids: list[str]
) -> dict[str, Any]:
    """The manager, or the partner for the seeker, sets the team (at most ``MAX_TEAM``
    other providers listed at the arrangement's agency); audited."""
    with unit_of_work(session) as uow:
        arrangement = load(session, principal, Arrangement, arrangement_id, Action.WRITE)
        if principal.kind not in (Kind.MANAGER, Kind.PARTNER, Kind.ADMIN):
            raise Forbidden("An arrangement's team is set by the manager or the seeker's partner.")
        wanted = list(dict.fromkeys(provider_ids))
        if len(wanted) > MAX_TEAM:
            at_most = f"A team has at most {MAX_TEAM} providers."
            raise InvalidInput(errors={"provider_ids": [at_most]})
        if arrangement.provider_id in wanted:
            raise InvalidInput(
                errors={"provider_ids": ["The arrangement's own provider is not cover."]}
            )
        listed = set(
            session.scalars(
                select(ProviderListing.provider_id).where(
                    ProviderListing.agency_id == arrangement.agency_id,
                    ProviderListing.provider_id.in_(wanted),
                )
            )
        )
        if missing := [p for p in wanted if p not in listed]:
            raise InvalidInput(
                errors={"provider_ids": [f"Not providers listed at this agency: {missing}."]}
            )
        before = team_of(session, arrangement.id)
        members = select(TeamMember).where(TeamMember.arrangement_id == arrangement.id)
        rows = session.scalars(members)
        for row in rows:
            if row.provider_id not in wanted:
                session.delete(row)
        for provider_id in wanted:
            if provider_id not in before:
                session.add(
                    TeamMember(
                        id=new_id("tmm"),
                        arrangement_id=arrangement.id,
                        provider_id=provider_id,
                        added_by=principal.id,
                    )
                )
        session.flush()
        after = team_of(session, arrangement.id)
        record(
            session,
            principal,
            "arrangement.team",
            arrangement,
            {"provider_ids": before},
            {"provider_ids": after},
        )
        uow.commit()
        return {"arrangement_id": arrangement.id, "provider_ids": after}
