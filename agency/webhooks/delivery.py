"""Sending webhooks: one signed POST per attempt, retries with back-off over hours.

The first attempt runs in a job right after the state change commits. A failed
attempt records the next due time from ``RETRY_DELAYS``; with RQ it is also
scheduled with ``enqueue_in`` (needs ``rq worker --with-scheduler``), and in every
mode the sweeper ``deliver_due_webhooks`` (``flask --app wsgi deliver-due-webhooks``,
run by the scheduler every minute) sends whatever is due, which is also what
recovers a delivery whose worker died mid-way.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.config import Settings
from agency.db import utcnow
from agency.errors import InvalidInput
from agency.ids import new_id
from agency.jobs.models import JobRecord
from agency.jobs.queue import job
from agency.unit_of_work import unit_of_work
from agency.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from agency.webhooks.safety import check_url
from agency.webhooks.service import DELIVER_JOB
from agency.webhooks.signing import headers
from agency.webhooks.transport import HttpSender

log = logging.getLogger("agency.webhooks")

# Wait after attempt n before attempt n+1 (about 18 hours in all), then give up.
RETRY_DELAYS = [
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
]


def attempt(session: Session, delivery: WebhookDelivery, settings: Settings) -> bool:
    """POST the event once, log the attempt, schedule the next one; commits. True on 2xx."""
    endpoint, event = delivery.endpoint, delivery.event
    now = utcnow()
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    in_use = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_expires_at or now) > now:
        in_use.append(endpoint.previous_secret)
    if endpoint.disabled_at is not None:  # deleted since the event: nothing more to send
        with unit_of_work(session) as uow:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.last_error = "endpoint_deleted"
            uow.commit()
        return False
    started = time.perf_counter()
    try:
        pin = check_url(endpoint.url, allow_private=settings.webhook_allow_private)
        send = session.info.get("webhook_sender") or HttpSender.from_settings(settings)
        status_code, error = send(
            endpoint.url, body, headers(in_use, event.id, int(now.timestamp()), body), pin
        )
    except InvalidInput:
        status_code, error = None, "unsafe_url"
    with unit_of_work(session) as uow:
        session.add(
            WebhookAttempt(
                id=new_id("wha"),
                delivery_id=delivery.id,
                attempted_at=now,
                status_code=status_code,
                error=error,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        if error is None:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts > len(RETRY_DELAYS):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        uow.commit()
    if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at:
        _schedule_retry(settings, delivery.id, delivery.next_attempt_at - now)
    log.info(
        "webhook attempt",
        extra={"delivery_id": delivery.id, "status": status_code, "attempt": delivery.attempts},
    )
    return error is None


def _schedule_retry(settings: Settings, delivery_id: str, delay: dt.timedelta) -> None:
    if settings.inline_jobs:
        return  # the sweeper picks it up when due
    from agency.jobs.queue import rq_queue

    try:
        from agency.bootstrap import routes_for

        queue = routes_for(settings).queue_of_kind("webhooks")
        rq_queue(settings.redis_url or "", queue).enqueue_in(
            delay, "agency.webhooks.delivery.deliver_one", delivery_id
        )
    except Exception as error:  # Redis down: the sweeper still has the row
        log.error("retry not scheduled", extra={"error_type": type(error).__name__})


def _claim(session: Session, stmt: Any) -> list[WebhookDelivery]:
    # SKIP LOCKED: a job and the sweeper never post the same delivery at once (PostgreSQL).
    return list(session.scalars(stmt.with_for_update(skip_locked=True)))


def _due(now: dt.datetime) -> Any:
    return select(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now
    )


def deliver_due(
    session: Session, settings: Settings, event_id: str | None = None, limit: int = 500
) -> int:
    """Attempt due deliveries (of one event, or all) one by one; returns how many."""
    attempted = 0
    while attempted < limit:
        stmt = _due(utcnow()).order_by(WebhookDelivery.next_attempt_at).limit(1)
        if event_id:
            stmt = stmt.where(WebhookDelivery.event_id == event_id)
        claimed = _claim(session, stmt)
        if not claimed:
            break
        attempt(session, claimed[0], settings)
        attempted += 1
    with unit_of_work(session) as uow:
        uow.commit()  # the last claim's locks (nothing was due)
    return attempted


def deliver_one(delivery_id: str) -> None:
    """What RQ runs for a scheduled retry: attempt the delivery if it is still due."""
    from agency.worker import container  # the process's composition root

    built = container()
    with built.sessions() as session:
        stmt = _due(utcnow()).where(WebhookDelivery.id == delivery_id)
        for delivery in _claim(session, stmt):
            attempt(session, delivery, built.settings)


@job(DELIVER_JOB)
def deliver_webhook_event(
    session: Session, record: JobRecord, *, settings: Settings, event_id: str
) -> dict[str, Any]:
    return {"attempted": deliver_due(session, settings, event_id)}


@job("deliver_due_webhooks")
def deliver_due_webhooks(
    session: Session, record: JobRecord, *, settings: Settings
) -> dict[str, Any]:
    return {"attempted": deliver_due(session, settings)}
