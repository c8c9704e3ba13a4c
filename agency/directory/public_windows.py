"""The days on which each provider may be shown publicly, kept as rows beside the provider.

The public directory and the ORUK feed show a provider that is approved at an agency,
offers a service and is compliant on the day (:mod:`agency.directory.eligibility`).
Evaluated per request, that rule joined every provider's listings, services and
compliance items: ~70 ms of PostgreSQL per page with no cached copy at 10k providers
(a new filter combination, or the first read after any change). Every part of it but
the day is a property of the provider, and the day enters only through the items'
issue and expiry dates, so the days a provider is public form a few closed windows.
They are kept here: a page asks for the providers with a window around the day.

``windows_of`` computes them by the rule of :mod:`agency.providers.compliance` (for
each required kind, the days some verified item covers, from its issue to its expiry
date; the days every required kind is covered; none unless approved somewhere and
offering a service). ``tests/directory/test_public_windows.py`` holds the windows to
``eligibility.is_eligible`` on random providers and days.

They are kept current from the one place every change of those inputs already goes
through: ``agency.introductions.match_triggers.provider_inputs_changed`` (the flush
hook for ORM writes, and explicit calls after Core writes: vetting, compliance
decisions) names the providers (:func:`mark_stale`); just before the transaction
commits, their windows are computed again from the flushed rows (:func:`_refresh_marked`),
so they commit with the change or not at all. A Core write of those inputs through a
session that names no providers (an operator's bulk update, a change of which services
are regulated) has every provider's windows computed again at commit; writes that bypass
the session altogether (a bulk load on a bare connection) call :func:`rebuild`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    ForeignKey,
    String,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from agency.db import Base
from agency.directory.models import ServiceType
from agency.providers.compliance import ALWAYS_REQUIRED
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    Provider,
    ProviderListing,
    ProviderService,
)

FIRST_DAY, LAST_DAY = dt.date.min, dt.date.max  # an item with no issue / expiry date
Window = tuple[dt.date, dt.date]  # first and last day, both included


class PublicWindow(Base):
    """Days ``starts_on`` through ``ends_on`` (inclusive) the provider is public."""

    __tablename__ = "provider_public_windows"

    provider_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    starts_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ends_on: Mapped[dt.date] = mapped_column(Date)


def public_on_clause(today: dt.date) -> ColumnElement[bool]:
    """The provider has a public window around ``today`` (uncorrelated IN: hashed once)."""
    return Provider.id.in_(
        select(PublicWindow.provider_id).where(
            PublicWindow.starts_on <= today, PublicWindow.ends_on >= today
        )
    )


# --- the rule, on plain values ---------------------------------------------------------------


def windows_of(
    approved: bool,
    service_keys: Collection[str],
    regulated_keys: Collection[str],
    verified_items: Iterable[tuple[ComplianceKind, dt.date | None, dt.date | None]],
) -> list[Window]:
    """The days a provider is public, as sorted, disjoint, non-adjacent windows.

    ``verified_items``: (kind, issued_on, expires_on) of its verified compliance items.
    """
    if not approved or not service_keys:
        return []
    required: Sequence[ComplianceKind] = ALWAYS_REQUIRED
    if any(key in regulated_keys for key in service_keys):
        required = (*ALWAYS_REQUIRED, ComplianceKind.CQC_REGISTRATION)
    by_kind: dict[ComplianceKind, list[Window]] = defaultdict(list)
    for kind, issued_on, expires_on in verified_items:
        first, last = issued_on or FIRST_DAY, expires_on or LAST_DAY
        if first <= last:
            by_kind[kind].append((first, last))
    windows: list[Window] = [(FIRST_DAY, LAST_DAY)]
    for kind in required:
        windows = _intersection(windows, _union(by_kind[kind]))
        if not windows:
            break
    return windows


def _union(windows: list[Window]) -> list[Window]:
    """Overlapping or adjacent windows merged (a renewal that starts the day after)."""
    merged: list[Window] = []
    for first, last in sorted(windows):
        if merged and first.toordinal() <= merged[-1][1].toordinal() + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _intersection(a: list[Window], b: list[Window]) -> list[Window]:
    """The days in both (each sorted and disjoint): one pass over the two."""
    out: list[Window] = []
    i = j = 0
    while i < len(a) and j < len(b):
        first, last = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if first <= last:
            out.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# --- kept current ----------------------------------------------------------------------------

_STALE = "public_windows_stale"
_ALL_STALE = "public_windows_all_stale"
_NAMED = "public_windows_named"
# For a Core write of an input whose caller names the providers it changed (mark_stale,
# or provider_inputs_changed, which calls it): ``.execution_options(**NAMED)``.
NAMED = {_NAMED: True}
# What the windows are computed from (the providers' own rows only add or remove ids).
INPUTS = (ComplianceItem, ProviderListing, ProviderService, ServiceType)
CHUNK = 1000  # providers read and written per round of a rebuild


def mark_stale(session: Session, provider_ids: Iterable[str]) -> None:
    """The providers' windows are computed again just before this transaction commits."""
    ids = set(provider_ids)
    if ids:
        session.info.setdefault(_STALE, set()).update(ids)


def refresh(session: Session | Connection, provider_ids: Collection[str]) -> int:
    """Compute the providers' windows again from their rows (flushed), in this transaction.

    Answers how many windows they now have. A provider that no longer exists has none.
    """
    regulated = frozenset(session.scalars(select(ServiceType.key).where(ServiceType.regulated)))
    written = 0
    ordered = sorted(provider_ids)
    for at in range(0, len(ordered), CHUNK):
        chunk = ordered[at : at + CHUNK]
        rows = _windows_rows(session, chunk, regulated)
        session.execute(delete(PublicWindow).where(PublicWindow.provider_id.in_(chunk)))
        if rows:
            session.execute(insert(PublicWindow), rows)
        written += len(rows)
    return written


def rebuild(session: Session | Connection) -> int:
    """Every provider's windows computed again (after a bulk load, or a change of which
    services are regulated). Answers how many windows there now are."""
    ids = list(session.scalars(select(Provider.id)))
    session.execute(delete(PublicWindow))
    return refresh(session, ids)


def _windows_rows(
    session: Session | Connection, provider_ids: list[str], regulated: frozenset[str]
) -> list[dict[str, Any]]:
    approved = set(
        session.scalars(
            select(ProviderListing.provider_id).where(
                ProviderListing.provider_id.in_(provider_ids),
                ProviderListing.status == ListingStatus.APPROVED,
            )
        )
    )
    services: dict[str, set[str]] = defaultdict(set)
    for provider_id, key in session.execute(
        select(ProviderService.provider_id, ProviderService.service_key).where(
            ProviderService.provider_id.in_(provider_ids)
        )
    ):
        services[provider_id].add(key)
    items: dict[str, list[tuple[ComplianceKind, dt.date | None, dt.date | None]]] = defaultdict(
        list
    )
    for provider_id, kind, issued_on, expires_on in session.execute(
        select(
            ComplianceItem.provider_id,
            ComplianceItem.kind,
            ComplianceItem.issued_on,
            ComplianceItem.expires_on,
        ).where(
            ComplianceItem.provider_id.in_(provider_ids),
            ComplianceItem.status == ComplianceStatus.VERIFIED,
        )
    ):
        items[provider_id].append((kind, issued_on, expires_on))
    return [
        {"provider_id": provider_id, "starts_on": first, "ends_on": last}
        for provider_id in provider_ids
        if provider_id in approved
        for first, last in windows_of(True, services[provider_id], regulated, items[provider_id])
    ]


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    """A Core write of an input through the session that does not name its providers
    (``execution_options(**NAMED)`` and a call of :func:`mark_stale`, as vetting and
    compliance decisions do): every provider's windows are computed again at commit."""
    if (
        (state.is_update or state.is_delete or state.is_insert)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ in INPUTS
        and not state.execution_options.get(_NAMED)
    ):
        state.session.info[_ALL_STALE] = True


# insert=True: before the audit trail's hook, which takes its lock last (agency.audit.service).
@event.listens_for(Session, "before_commit", insert=True)
def _refresh_marked(session: Session) -> None:
    # The ORM flushes after the before_commit hooks: flush first (a no-op when nothing is
    # pending), since the flush hook is what names the providers of ORM changes.
    session.flush()
    stale = session.info.pop(_STALE, None)
    if session.info.pop(_ALL_STALE, False):
        rebuild(session)
    elif stale:
        refresh(session, stale)


@event.listens_for(Session, "after_rollback")
def _forget_marked(session: Session) -> None:
    session.info.pop(_STALE, None)
    session.info.pop(_ALL_STALE, None)
