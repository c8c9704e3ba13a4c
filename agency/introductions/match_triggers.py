"""Re-match when a provider changes what the matcher reads about them.

A change to a provider's profile (location, radius, capacity, availability, gender,
languages), services and rates, time off, compliance items, listings (vetting) or
ISF approval re-ranks the open requests of the agencies it is listed with, and marks
those agencies' stored pools out of date (agency.introductions.pool_cache).

Provider services that write with Core statements (vetting decisions, compliance
decisions) call :func:`provider_inputs_changed` explicitly: a session hook only sees
ORM-tracked objects, and relying on it is how vetting once never re-matched. The
``before_flush`` hook stays as the net for ORM writes (profile, services, time off);
it looks only at the fields the matcher reads (a new ``bio`` re-matches nothing), and
it is linear in the number of pending objects. The re-match itself is debounced per
agency (see ``match_jobs.enqueue_rematch_for_agencies``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from agency.directory.public_windows import mark_stale
from agency.introductions.match_jobs import enqueue_rematch_for_agencies
from agency.introductions.pool_cache import bump_generation
from agency.providers.models import (
    AvailabilityException,
    ComplianceItem,
    ComplianceStatus,
    IsfApproval,
    Provider,
    ProviderListing,
    ProviderService,
)

# What the matcher reads of each object (agency.introductions.pool_cache.build_snapshot).
MATCHER_FIELDS: dict[type, tuple[str, ...]] = {
    Provider: (
        "lat",
        "lon",
        "travel_radius_km",
        "availability_mask",
        "capacity_hours_per_week",
        "gender",
        "languages",
    ),
    ProviderService: ("provider_id", "service_key", "rate_pence"),
    AvailabilityException: ("provider_id", "starts_on", "ends_on"),
    ComplianceItem: ("provider_id", "kind", "status", "issued_on", "expires_on"),
    ProviderListing: ("provider_id", "agency_id", "status"),
    IsfApproval: ("provider_id", "council_id", "approved"),
}


PROVIDER_COLLECTIONS = ("services", "exceptions", "compliance_items", "listings", "isf_approvals")

# Whether a change seen here also queues the re-match of the agencies' open requests (their
# pools are marked stale either way). The web app's factory says "inside an app context"
# (requests and CLI commands; agency.create_app); a process that never says stays quiet.
_rematch_here: Callable[[], bool] = lambda: False  # noqa: E731


def rematch_when(predicate: Callable[[], bool]) -> None:
    """Name the condition under which provider changes queue re-matches (the composition root)."""
    global _rematch_here
    _rematch_here = predicate


def provider_inputs_changed(
    session: Session, provider_ids: Iterable[str] = (), agency_ids: Iterable[str] = ()
) -> list[str]:
    """Something the matcher reads changed: mark the pools stale and queue the re-matches.

    Runs in the caller's transaction (nothing happens if it rolls back). The agencies are
    those given plus every agency the providers are listed with. Outside a running app
    (a script, a test's factory) only the pools are marked: there is nobody to re-match.
    Answers the agencies' ids. The providers' public windows
    (agency.directory.public_windows) are computed again just before the transaction
    commits: what the matcher reads includes all the public directory does.
    """
    agencies = set(agency_ids)
    providers = set(provider_ids)
    mark_stale(session, providers)  # the public directory's windows, before this commits
    session.info["no_rematch"] = True  # our own writes must not re-enter the flush hook
    try:
        with session.no_autoflush:
            if providers:
                agencies |= set(
                    session.scalars(
                        select(ProviderListing.agency_id).where(
                            ProviderListing.provider_id.in_(providers)
                        )
                    )
                )
            if not agencies:
                return []
            bump_generation(session, agencies, providers)
            if _rematch_here():
                enqueue_rematch_for_agencies(session, sorted(agencies))
    finally:
        session.info.pop("no_rematch", None)
    return sorted(agencies)


def _matters(obj: Any, *, new: bool = False, deleted: bool = False) -> bool:
    fields = MATCHER_FIELDS.get(type(obj))
    if fields is None:
        return False
    if isinstance(obj, ComplianceItem) and (new or deleted):
        # Only verified items count; a document waiting for verification changes nothing.
        return obj.status is ComplianceStatus.VERIFIED or (deleted and obj.status is None)
    if new or deleted:
        return True
    attrs = inspect(obj).attrs
    if any(attrs[name].history.has_changes() for name in fields):
        return True
    if isinstance(obj, Provider):
        # A child appended to a provider's collection has no provider_id until the flush
        # itself: the provider's collection history is what shows it.
        for name in PROVIDER_COLLECTIONS:
            history = attrs[name].history
            if any(_matters(child, new=True) for child in (*history.added, *history.deleted)):
                return True
    return False


@event.listens_for(Session, "before_flush")
def _rematch_on_provider_change(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get("no_rematch"):
        return
    # Each of session.new/dirty/deleted builds a fresh set: read each once (linear).
    changed = [obj for obj in session.new if _matters(obj, new=True)]
    changed += [obj for obj in session.deleted if _matters(obj, deleted=True)]
    changed += [obj for obj in session.dirty if _matters(obj)]
    if not changed:
        return
    provider_ids = {
        pid
        for obj in changed
        if (pid := obj.id if isinstance(obj, Provider) else getattr(obj, "provider_id", None))
    }
    agency_ids = {obj.agency_id for obj in changed if isinstance(obj, ProviderListing)}
    provider_inputs_changed(session, provider_ids, agency_ids)
