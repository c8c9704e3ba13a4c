"""Partner webhook endpoints, the events we owe them, and every delivery attempt.

An event row is written in the same transaction as the state change it reports,
with one delivery row per subscribed endpoint, so nothing is lost if a worker dies:
the sweeper (``deliver-due-webhooks``) resends whatever is still due.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.access import Scope
from agency.db import Base, IdMixin, str_enum, utcnow


class WebhookEndpoint(IdMixin, Base):
    __tablename__ = "webhook_endpoints"
    __label__ = "webhook endpoint"

    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    # The signing key must be usable to sign, so it is stored (not hashed), like Stripe's.
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret also signs for a grace period (both signatures sent).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None]

    def access_scope(self) -> Scope:
        return Scope.of(partner_client_id=self.partner_client_id)


class WebhookEvent(IdMixin, Base):
    """What happened, as the partner will see it: ids and statuses, no personal data."""

    __tablename__ = "webhook_events"

    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every scheduled attempt failed; redeliver on request


class WebhookDelivery(IdMixin, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
    __label__ = "webhook delivery"

    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    log: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.attempted_at")

    def access_scope(self) -> Scope:
        return Scope.of(partner_client_id=self.partner_client_id)


class WebhookAttempt(IdMixin, Base):
    """One POST to the partner: when, what came back (the delivery log the partner reads)."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int]
