"""Re-match when a provider changes what the matcher reads about them.

A change to a provider's profile (capacity, radius), services and rates,
availability or time off, compliance items or vetting status re-ranks the open
requests of the agencies it is listed with. This is a session hook rather than a
call in each provider service function, so that no write path can forget it;
the re-match itself is debounced per agency (see enqueue_rematch_for_agencies).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from agency.providers.models import (
    AvailabilityException,
    ComplianceItem,
    IsfApproval,
    Provider,
    ProviderListing,
    ProviderService,
)

WATCHED = (
    Provider,
    ProviderService,
    AvailabilityException,
    ComplianceItem,
    ProviderListing,
    IsfApproval,
)


def _provider_id(obj: Any) -> str | None:
    return obj.id if isinstance(obj, Provider) else getattr(obj, "provider_id", None)


@event.listens_for(Session, "before_flush")
def _rematch_on_provider_change(session: Session, _context: Any, _instances: Any) -> None:
    if (
        session.info.get("no_rematch")
        or not has_app_context()
        or "agency" not in current_app.extensions
    ):
        return
    changed = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, WATCHED)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    if not changed:
        return
    provider_ids = {pid for obj in changed if (pid := _provider_id(obj))}
    agency_ids = {obj.agency_id for obj in changed if isinstance(obj, ProviderListing)}
    if provider_ids:
        with session.no_autoflush:
            agency_ids |= set(
                session.scalars(
                    select(ProviderListing.agency_id).where(
                        ProviderListing.provider_id.in_(provider_ids)
                    )
                )
            )
    if agency_ids:
        from agency.introductions.match_jobs import enqueue_rematch_for_agencies

        session.info["no_rematch"] = True  # adding the job rows must not re-enter this hook
        try:
            with session.no_autoflush:
                enqueue_rematch_for_agencies(session, sorted(agency_ids))
        finally:
            session.info.pop("no_rematch", None)
