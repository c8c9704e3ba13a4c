"""Reading planned visits (rotas, a seeker's upcoming visits, the manager's missed list),
providers cancelling in advance, the missed-visit sweep, and providers' rota feeds.

Partners are told by signed webhooks (``visit.missed``, ``visit.cancelled``) carrying ids,
dates and statuses only; a cancellation's reason is read with the planned visit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, digest, load, visible_to
from agency.audit.service import record
from agency.dates import LONDON
from agency.db import utcnow
from agency.errors import Conflict, Forbidden, NotFound
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.jobs.models import JobRecord
from agency.jobs.queue import job
from agency.providers.models import Provider, ProviderListing
from agency.seekers.models import CareSeeker
from agency.unit_of_work import unit_of_work
from agency.visits.planned_models import CoverStatus, PlannedStatus, PlannedVisit, RotaFeed
from agency.visits.planning import HORIZON_DAYS
from agency.webhooks.service import emit

MISSED_JOB = "visits.mark_missed"
REPEATED_MISSES = 2  # this many misses in the window and the manager's view says so
RECORD_WINDOW_DAYS = 28
P = PlannedStatus


def on_or_after(first: dt.date) -> ColumnElement[bool]:
    """Planned visits on London date ``first`` or later, in terms an index can serve.

    ``date`` has no index of its own; planned visits are indexed by their owner and
    ``starts_at`` (provider, cover provider, seeker, agency, agency and status, arrangement).
    ``starts_at`` is the start on ``date`` in London, so it lies within a day of the date's
    midnight: the bound below, a day wider, keeps every row the date test keeps and lets
    the index skip the history before it.
    """
    low = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), LONDON)
    return and_(PlannedVisit.date >= first, PlannedVisit.starts_at >= low)


def on_or_before(last: dt.date) -> ColumnElement[bool]:
    """Planned visits on London date ``last`` or earlier (the twin of :func:`on_or_after`)."""
    high = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), LONDON)
    return and_(PlannedVisit.date <= last, PlannedVisit.starts_at < high)


def on_days(first: dt.date, last: dt.date) -> ColumnElement[bool]:
    """Planned visits on London dates ``first`` to ``last``, as an index range on
    ``starts_at`` (see :func:`on_or_after`)."""
    return and_(on_or_after(first), on_or_before(last))


def _filtered(stmt: Select[Any], filters: dict[str, Any]) -> Select[Any]:
    if filters.get("status"):
        stmt = stmt.where(PlannedVisit.status == filters["status"])
    if filters.get("date_from"):
        stmt = stmt.where(on_or_after(filters["date_from"]))
    if filters.get("date_to"):
        stmt = stmt.where(on_or_before(filters["date_to"]))
    if filters.get("provider_id"):
        stmt = stmt.where(PlannedVisit.provider_id == filters["provider_id"])
    if filters.get("unacknowledged"):
        stmt = stmt.where(PlannedVisit.acknowledged_at.is_(None))
        if filters.get("status") == PlannedStatus.MISSED:
            # The missed list: its status written into the SQL, not bound, so PostgreSQL
            # sees the partial index's condition hold (ix_planned_visits_agency_missed_open).
            stmt = stmt.where(PlannedVisit.status == literal_column("'missed'"))
    return stmt.order_by(PlannedVisit.starts_at, PlannedVisit.id)


def planned_visits_for(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """The planned visits the principal may see: a manager's agency (the missed list with
    ``status=missed&unacknowledged=true``), a provider's own, a partner's seekers'."""
    return _filtered(select(PlannedVisit).where(visible_to(PlannedVisit, principal)), filters)


def planned_visits_of(
    session: Session, principal: Principal, arrangement_id: str, filters: dict[str, Any]
) -> Select[Any]:
    arrangement = load(session, principal, Arrangement, arrangement_id, Action.READ)
    stmt = select(PlannedVisit).where(PlannedVisit.arrangement_id == arrangement.id)
    return _filtered(stmt, filters)


def upcoming_for_seeker(
    session: Session, principal: Principal, seeker_id: str, today: dt.date | None = None
) -> Select[Any]:
    """A seeker's planned visits from today (any arrangement), for their partner."""
    seeker = load(session, principal, CareSeeker, seeker_id, Action.READ)
    today = today or dt.datetime.now(LONDON).date()
    stmt = select(PlannedVisit).where(
        PlannedVisit.seeker_id == seeker.id,
        on_or_after(today),
        visible_to(PlannedVisit, principal),
    )
    return stmt.order_by(PlannedVisit.starts_at, PlannedVisit.id)


def rota_of(principal: Principal, date_from: dt.date | None, date_to: dt.date | None) -> Any:
    """The calling provider's planned visits, today to the horizon unless dates are given."""
    if principal.kind is not Kind.PROVIDER:
        raise Forbidden("A rota belongs to a provider.")
    today = dt.datetime.now(LONDON).date()
    first = date_from or today
    last = date_to or today + dt.timedelta(days=HORIZON_DAYS)
    return (
        select(PlannedVisit)
        .where(PlannedVisit.provider_id == principal.provider_id, on_days(first, last))
        .order_by(PlannedVisit.starts_at, PlannedVisit.id)
    )


def get_planned_visit(session: Session, principal: Principal, planned_id: str) -> PlannedVisit:
    return load(session, principal, PlannedVisit, planned_id, Action.READ)


def _event_data(planned: PlannedVisit) -> dict[str, Any]:
    return {
        "planned_visit_id": planned.id,
        "arrangement_id": planned.arrangement_id,
        "seeker_id": planned.seeker_id,
        "date": planned.date.isoformat(),
        "start": planned.start_time,
        "end": planned.end_time,
        "status": planned.status.value,
    }


def cancel_planned_visit(
    session: Session, principal: Principal, planned_id: str, reason: str
) -> PlannedVisit:
    """The provider cancels a visit that has not started; the partner is told."""
    with unit_of_work(session) as uow:
        planned = load(session, principal, PlannedVisit, planned_id, Action.WRITE)
        if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
            raise Forbidden("Only the visit's provider cancels it.")
        session.refresh(planned, with_for_update=True)
        if planned.status is not P.PLANNED or planned.starts_at <= utcnow():
            raise Conflict(
                "Only a planned visit that has not started can be cancelled.",
                code="visit_not_cancellable",
                current_status=planned.status.value,
            )
        planned.status = P.CANCELLED
        planned.cancelled_at, planned.cancelled_by = utcnow(), principal.id
        planned.cancel_reason = reason
        record(
            session,
            principal,
            "planned_visit.cancelled",
            planned,
            {"status": P.PLANNED.value},
            {"status": planned.status.value, "reason": reason},
        )
        emit(session, "visit.cancelled", planned.partner_client_id, _event_data(planned))
        uow.commit()
        return planned


def acknowledge_missed(session: Session, principal: Principal, planned_id: str) -> PlannedVisit:
    """The manager has dealt with a missed visit; it leaves the missed list."""
    with unit_of_work(session) as uow:
        planned = load(session, principal, PlannedVisit, planned_id, Action.WRITE)
        if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
            raise Forbidden("The agency's manager works through the missed list.")
        if planned.status is not P.MISSED or planned.acknowledged_at is not None:
            raise Conflict(
                "Only a missed visit not yet dealt with can be acknowledged.",
                code="not_missed",
                current_status=planned.status.value,
            )
        planned.acknowledged_at, planned.acknowledged_by = utcnow(), principal.id
        missed = {"status": "missed"}
        record(session, principal, "planned_visit.acknowledged", planned, None, missed)
        uow.commit()
        return planned


def mark_missed(session: Session, after_minutes: int, now: dt.datetime | None = None) -> int:
    """Planned visits with nothing logged ``after_minutes`` past their end become missed;
    each is audited and owed to the partner as ``visit.missed`` (one transaction)."""
    now = now or utcnow()
    with unit_of_work(session) as uow:
        due = session.scalars(
            select(PlannedVisit)
            .where(
                PlannedVisit.status == P.PLANNED,
                PlannedVisit.ends_at <= now - dt.timedelta(minutes=after_minutes),
                # A visit another provider accepted to cover is theirs to make (visits.cover).
                or_(
                    PlannedVisit.cover_status.is_(None),
                    PlannedVisit.cover_status != CoverStatus.ACCEPTED,
                ),
            )
            .order_by(PlannedVisit.ends_at, PlannedVisit.id)
            .with_for_update(skip_locked=True)
        ).all()
        for planned in due:
            planned.status, planned.missed_at = P.MISSED, now
            record(session, None, "planned_visit.missed", planned, {"status": "planned"}, None)
            emit(session, "visit.missed", planned.partner_client_id, _event_data(planned))
        uow.commit()
    return len(due)


@job(MISSED_JOB)
def mark_missed_job(session: Session, record: JobRecord, *, settings: Any) -> dict[str, Any]:
    """Mark overdue unlogged planned visits missed and tell the partners."""
    return {"missed": mark_missed(session, settings.visit_missed_after_minutes)}


def provider_visit_record(
    session: Session, principal: Principal, provider_id: str, today: dt.date | None = None
) -> dict[str, Any]:
    """For the manager's view of a provider: planned visits by status over the last four
    weeks at the manager's agency, and whether misses repeat."""
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("A provider's visit record is for the agency's manager.")
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(f"No provider with id {provider_id}.")
    today = today or dt.datetime.now(LONDON).date()
    since = today - dt.timedelta(days=RECORD_WINDOW_DAYS)
    rows = session.execute(
        select(PlannedVisit.status, func.count())
        .where(
            PlannedVisit.provider_id == provider.id,
            visible_to(PlannedVisit, principal),
            on_days(since, today),
        )
        .group_by(PlannedVisit.status)
    ).all()
    if (
        not rows
        and principal.kind is Kind.MANAGER
        and not listed_here(session, principal, provider)
    ):
        raise NotFound(f"No provider with id {provider_id}.")
    counts = {status.value: 0 for status in P}
    counts.update({PlannedStatus(s).value: n for s, n in rows})
    return {
        "provider_id": provider.id,
        "since": since,
        "counts": counts,
        "repeated_misses": counts[P.MISSED.value] >= REPEATED_MISSES,
    }


def listed_here(session: Session, principal: Principal, provider: Provider) -> bool:
    return (
        session.scalar(
            select(ProviderListing.id).where(
                ProviderListing.provider_id == provider.id,
                ProviderListing.agency_id == principal.agency_id,
            )
        )
        is not None
    )


# The rota feed: a secret URL a phone calendar subscribes to.


def issue_rota_feed(session: Session, principal: Principal) -> str:
    """A new secret token for the calling provider's feed (the old one stops working)."""
    if principal.kind is not Kind.PROVIDER or principal.provider_id is None:
        raise Forbidden("A rota feed belongs to a provider.")
    token = secrets.token_urlsafe(32)
    feed = session.scalar(select(RotaFeed).where(RotaFeed.provider_id == principal.provider_id))
    with unit_of_work(session) as uow:
        if feed is None:
            feed = RotaFeed(id=new_id("rfd"), provider_id=principal.provider_id)
            session.add(feed)
        feed.token_digest, feed.created_at = digest(token), utcnow()
        uow.commit()
    return token


def revoke_rota_feed(session: Session, principal: Principal) -> None:
    if principal.kind is not Kind.PROVIDER:
        raise Forbidden("A rota feed belongs to a provider.")
    feed = session.scalar(select(RotaFeed).where(RotaFeed.provider_id == principal.provider_id))
    if feed is None:
        raise NotFound("No rota feed.")
    with unit_of_work(session) as uow:
        session.delete(feed)
        uow.commit()


def rota_feed_visits(session: Session, token: str) -> list[PlannedVisit]:
    """The feed's planned visits (last week to the horizon); 404 for an unknown token."""
    feed = session.scalar(select(RotaFeed).where(RotaFeed.token_digest == digest(token)))
    if feed is None:
        raise NotFound("No rota feed.")
    today = dt.datetime.now(LONDON).date()
    return list(
        session.scalars(
            select(PlannedVisit)
            .where(
                PlannedVisit.provider_id == feed.provider_id,
                on_days(today - dt.timedelta(days=7), today + dt.timedelta(days=HORIZON_DAYS)),
            )
            .order_by(PlannedVisit.starts_at, PlannedVisit.id)
        )
    )
