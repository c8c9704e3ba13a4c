"""What partners are told: webhook payloads with ids and statuses, never names."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.introductions.models import Arrangement, Introduction
from agency.webhooks.service import emit


def introduction_event(session: Session, event_type: str, introduction: Introduction) -> None:
    emit(
        session,
        event_type,
        introduction.partner_client_id,
        {
            "introduction_id": introduction.id,
            "care_request_id": introduction.care_request_id,
            "provider_id": introduction.provider_id,
            "status": introduction.status.value,
        },
    )


def arrangement_event(session: Session, event_type: str, arrangement: Arrangement) -> None:
    emit(
        session,
        event_type,
        arrangement.partner_client_id,
        {
            "arrangement_id": arrangement.id,
            "introduction_id": arrangement.introduction_id,
            "care_request_id": arrangement.care_request_id,
            "provider_id": arrangement.provider_id,
            "status": arrangement.status.value,
            "version": arrangement.current_version,
        },
    )
