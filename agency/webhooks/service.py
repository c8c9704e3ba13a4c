"""Partner webhook endpoints, emitting events in the caller's transaction, the delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, Scope, load, visible_to
from agency.db import utcnow
from agency.errors import Conflict, Forbidden, NotFound
from agency.ids import new_id
from agency.jobs.queue import jobs_for
from agency.unit_of_work import unit_of_work
from agency.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from agency.webhooks.safety import check_url
from agency.webhooks.signing import new_secret

EVENT_TYPES = (
    "introduction.approved",
    "introduction.accepted",
    "introduction.declined",
    "introduction.expired",
    "arrangement.started",
    "arrangement.changed",
    "arrangement.ended",
    "care_request.matched",
    "visit.missed",
    "visit.cancelled",
)
DELIVER_JOB = "deliver_webhook_event"
ROTATION_GRACE = dt.timedelta(hours=24)
MAX_ENDPOINTS = 10


def register_endpoint(
    session: Session,
    principal: Principal,
    *,
    url: str,
    events: list[str],
    description: str | None,
    allow_private: bool,
) -> WebhookEndpoint:
    """Add an endpoint for the calling partner; the returned row carries its secret."""
    if principal.kind is not Kind.PARTNER:  # an admin passes the route's check, owns none
        raise Forbidden("Webhook endpoints belong to a partner: sign in with its API key.")
    check_url(url, allow_private=allow_private)
    existing = session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(
            WebhookEndpoint.partner_client_id == principal.id,
            WebhookEndpoint.disabled_at.is_(None),
        )
    )
    if (existing or 0) >= MAX_ENDPOINTS:
        raise Conflict(
            f"A partner may register at most {MAX_ENDPOINTS} endpoints.", code="too_many_endpoints"
        )
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        partner_client_id=principal.id,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=new_secret(),
    )
    with unit_of_work(session) as uow:
        session.add(endpoint)
        uow.commit()
    return endpoint


def endpoints_of(principal: Principal) -> Select[Any]:
    """The live endpoints ``principal`` may see: a partner its own, an admin every one."""
    return (
        select(WebhookEndpoint)
        .where(visible_to(WebhookEndpoint, principal), WebhookEndpoint.disabled_at.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )


def get_endpoint(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = load(session, principal, WebhookEndpoint, endpoint_id, Action.WRITE)
    if endpoint.disabled_at is not None:
        raise NotFound(f"No webhook endpoint with id {endpoint_id}.")
    return endpoint


def delete_endpoint(session: Session, principal: Principal, endpoint_id: str) -> None:
    """Stop sending to an endpoint; its delivery log stays."""
    endpoint = get_endpoint(session, principal, endpoint_id)
    with unit_of_work(session) as uow:
        endpoint.disabled_at = utcnow()
        uow.commit()


def rotate_secret(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    """New secret now; the old one keeps signing alongside it for 24 hours."""
    endpoint = get_endpoint(session, principal, endpoint_id)
    with unit_of_work(session) as uow:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + ROTATION_GRACE
        endpoint.secret = new_secret()
        uow.commit()
    return endpoint


def emit(
    session: Session, event_type: str, partner_client_id: str, data: dict[str, Any]
) -> WebhookEvent | None:
    """Owe ``event_type`` to the partner's subscribed endpoints, in the caller's transaction.

    ``data`` must hold ids and statuses only. Delivery starts after commit (a job);
    nothing is sent if the transaction rolls back. Returns None when nobody subscribed.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    endpoints = [
        e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.partner_client_id == partner_client_id,
                WebhookEndpoint.disabled_at.is_(None),
            )
        )
        if event_type in e.events
    ]
    if not endpoints:
        return None
    now = utcnow()
    event = WebhookEvent(
        id=new_id("msg"),
        partner_client_id=partner_client_id,
        type=event_type,
        payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
    )
    session.add(event)
    for endpoint in endpoints:
        session.add(
            WebhookDelivery(
                id=new_id("whd"),
                event_id=event.id,
                endpoint_id=endpoint.id,
                partner_client_id=partner_client_id,
                next_attempt_at=now,
            )
        )
    _enqueue_delivery(session, event.id, partner_client_id)
    return event


def _enqueue_delivery(session: Session, event_id: str, partner_client_id: str) -> None:
    jobs_for(session).enqueue(
        session,
        DELIVER_JOB,
        {"event_id": event_id},
        scope=Scope.of(partner_client_id=partner_client_id),
    )


def deliveries_of(session: Session, principal: Principal, endpoint_id: str) -> Select[Any]:
    load(session, principal, WebhookEndpoint, endpoint_id, Action.READ)
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    )


def redeliver(session: Session, principal: Principal, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now, with a fresh retry schedule (whatever its status)."""
    delivery = load(session, principal, WebhookDelivery, delivery_id, Action.WRITE)
    with unit_of_work(session) as uow:
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        _enqueue_delivery(session, delivery.event_id, delivery.partner_client_id)
        uow.commit()
    return delivery
