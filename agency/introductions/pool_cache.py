"""The engine's provider pool per agency, kept as arrays in the database between match jobs.

A match job needs the agency's providers as the engine's arrays. Building them from ORM
objects costs seconds at a council's scale (tens of thousands of objects per job), so the
arrays are built from a few narrow Core queries and stored, pickled, in
``match_pool_cache``: one row per agency with a ``generation`` that every change to a
matcher input bumps in the changing transaction (see ``agency.introductions.match_triggers``).
A job whose stored snapshot has the current generation and today's date reuses it. After
a few providers' changes it reads only those providers and patches the arrays
(``agency.introductions.pool_patch``), keeping just their rows beside the stored arrays
(``delta``, a few kilobytes) rather than rewriting megabytes; the next job applies them in
memory. Any other job rebuilds and stores the arrays. Every store is a compare-and-set on
the generation read *before* the data, so a stale snapshot or delta is never kept. The
row lives in the database because a forking worker starts a fresh process per job and
several workers share it; the in-process matching worker (``agency.worker``) also keeps the
arrays it read in memory (:func:`keep_in_memory`), and then a job whose stored arrays are
those it holds reads only the pool's generations and delta, not the megabytes again.

What depends on the work's start date (time off, CQC registration in date) is kept as
intervals and applied per job; hours committed to arrangements change with arrangements,
not providers, so each job reads them fresh with one aggregate query.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy import insert as plain_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column

import matching
from agency.db import Base, utcnow
from agency.directory.models import ServiceType
from agency.introductions.models import Arrangement, ArrangementStatus, ArrangementVersion
from agency.providers.models import (
    AvailabilityException,
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    IsfApproval,
    ListingStatus,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.schedule import mask_from_hex
from agency.unit_of_work import own_transaction
from agency.visits.feedback import agency_ratings
from matching import features as matching_features
from matching import index as matching_index
from matching.index import PoolIndex

FORMAT = 3  # bump when the pickled snapshot's shape changes: older rows are rebuilt


class MatchPoolCache(Base):
    """One agency's provider pool as the engine's arrays, and the generation it was built at."""

    __tablename__ = "match_pool_cache"

    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    # Bumped by every change to what the matcher reads about the agency's providers.
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    built_generation: Mapped[int | None] = mapped_column(BigInteger)
    built_on: Mapped[dt.date | None] = mapped_column(Date)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The rows of the providers changed since ``built_generation`` (pool_patch.PoolDelta,
    # pickled): the arrays at a later generation without rewriting ``payload``.
    delta: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MatchPoolChange(Base):
    """A provider whose matcher inputs changed at one generation of its agency's pool.

    ``provider_id`` None: something of the whole agency changed (the pool is rebuilt).
    A job patches the stored arrays with the providers changed since they were built
    (agency.introductions.pool_patch); rows up to the stored generation are then deleted.
    """

    __tablename__ = "match_pool_changes"
    __table_args__ = (Index("ix_match_pool_changes_agency_generation", "agency_id", "generation"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(BigInteger)
    provider_id: Mapped[str | None] = mapped_column(String(40))


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def bump_generation(
    session: Session, agency_ids: Iterable[str], provider_ids: Iterable[str] = ()
) -> None:
    """Mark the agencies' stored pools out of date, in the caller's transaction.

    An upsert (INSERT .. ON CONFLICT DO UPDATE): two transactions changing providers of
    one agency at once both succeed; the second waits for the first's row lock, which
    also orders their re-match bookkeeping (see match_jobs.enqueue_rematch_for_agencies).
    Which providers changed is logged with the new generation (none named: the whole
    agency), so the next job patches the stored pool rather than rebuilding it.
    """
    upsert = _insert(session)
    changed: list[str | None] = [*sorted(set(provider_ids))] or [None]
    for agency_id in sorted(set(agency_ids)):
        stmt = upsert(MatchPoolCache).values(agency_id=agency_id, generation=1, updated_at=utcnow())
        generation = session.execute(
            stmt.on_conflict_do_update(
                index_elements=[MatchPoolCache.agency_id],
                set_={"generation": MatchPoolCache.generation + 1, "updated_at": utcnow()},
            ).returning(MatchPoolCache.generation)
        ).scalar_one()
        session.execute(
            plain_insert(MatchPoolChange),
            [{"agency_id": agency_id, "generation": generation, "provider_id": p} for p in changed],
        )


# --- the snapshot -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolSnapshot:
    """The date-independent pool plus what varies with the start date, as intervals."""

    base: matching.ProviderPool
    # Time off: rows away from start through end (date ordinals, inclusive).
    away_rows: np.ndarray
    away_from: np.ndarray
    away_until: np.ndarray
    # Verified CQC registrations: rows registered from (issued) through until (expiry).
    cqc_rows: np.ndarray
    cqc_from: np.ndarray
    cqc_until: np.ndarray
    # The engine's derived arrays of ``base`` (matching.index), so a job does not redo them.
    base_index: PoolIndex | None = None
    format: int = FORMAT

    def on(
        self,
        day: dt.date,
        committed: dict[str, float],
        ratings: tuple[dict[str, float], float | None] = ({}, None),
    ) -> matching.ProviderPool:
        """The pool for work starting ``day``, with hours already committed to arrangements
        and the seekers' ratings (``agency.visits.feedback.agency_ratings``)."""
        base, ordinal = self.base, day.toordinal()
        availability = base.availability
        away = self.away_rows[(self.away_from <= ordinal) & (ordinal <= self.away_until)]
        if away.size:
            # Time off on the start date: nothing can start then, so no availability counts.
            availability = availability.copy()
            availability[away] = 0
        cqc = np.zeros(len(base), dtype=bool)
        cqc[self.cqc_rows[(self.cqc_from <= ordinal) & (ordinal <= self.cqc_until)]] = True
        hours = np.zeros(len(base), dtype=np.float64)
        for provider_id, value in committed.items():
            row = base.row_of.get(provider_id)
            if row is not None:
                hours[row] = value
        pool = replace(
            base,
            availability=availability,
            cqc=cqc,
            committed_hours=hours,
            load_hours=hours,
            rating=rating_column(base, ratings),
        )
        if self.base_index is not None:
            _seed_index(self.base_index, pool, away)
        return pool


def _seed_index(base: PoolIndex, pool: matching.ProviderPool, away: np.ndarray) -> None:
    """Give the engine the pool's derived arrays from the stored ones (no np.unique per job).

    Only what a date or the committed hours change is recomputed, exactly as
    ``matching.index`` derives it; tests compare the result with the engine's own build.
    """
    pattern, patterns = base.pattern, base.patterns
    if away.size:
        empty = np.flatnonzero(~patterns.any(axis=1))
        if empty.size:
            row = int(empty[0])
        else:
            patterns = np.vstack([patterns, np.zeros((1, patterns.shape[1]), dtype=np.uint64)])
            row = len(patterns) - 1
        pattern = pattern.copy()
        pattern[away] = row
    free = pool.capacity_hours - pool.committed_hours
    matching_index._CACHE[pool] = replace(
        base,
        has_free=free > 0,
        free=free,
        pattern=pattern,
        patterns=patterns,
        load_norm=matching_features.load(pool.load_hours, pool.capacity_hours),
        slack=matching_features.slack(free, pool.capacity_hours),
        rating_norm=matching_features.rating(pool.rating),
    )


def rating_column(
    base: matching.ProviderPool, ratings: tuple[dict[str, float], float | None]
) -> np.ndarray:
    """The pool's rating per row: a rated provider's shrunk rating, anyone else the
    agency's mean, NaN (neutral) when the agency has no ratings. Read fresh per job, like
    the committed hours: feedback is not a change to the providers the snapshot keeps."""
    shrunk, mean = ratings
    column = np.full(len(base), np.nan if mean is None else mean, dtype=np.float64)
    for provider_id, value in shrunk.items():
        row = base.row_of.get(provider_id)
        if row is not None:
            column[row] = value
    return column


@dataclass
class _Facts:
    """What compliance_valid_until reads of a provider, from Core rows (no ORM objects)."""

    services: list[Any] = field(default_factory=list)
    compliance_items: list[Any] = field(default_factory=list)


def _listed(agency_id: str, only: Collection[str] | None = None) -> Any:
    listed = select(ProviderListing.provider_id).where(ProviderListing.agency_id == agency_id)
    return listed if only is None else listed.where(ProviderListing.provider_id.in_(only))


def build_snapshot(
    session: Session,
    agency_id: str,
    today: dt.date,
    only: Collection[str] | None = None,
    services: Sequence[str] | None = None,
) -> PoolSnapshot:
    """Read the agency's providers with narrow Core queries and build the engine's arrays.

    ``only``: just those of these providers that are listed with the agency (the rows a
    patch replaces), with the service catalogue ``services`` of the pool being patched.
    """
    # Imported here: the compliance service imports the triggers, which import this module.
    from agency.providers import compliance

    listed = _listed(agency_id, only)
    providers = session.execute(
        select(
            Provider.id,
            Provider.lat,
            Provider.lon,
            Provider.travel_radius_km,
            Provider.availability_mask,
            Provider.capacity_hours_per_week,
            Provider.gender,
            Provider.languages,
        )
        .where(Provider.id.in_(listed))
        .order_by(Provider.id)
    ).all()
    facts: dict[str, _Facts] = defaultdict(_Facts)
    rates: dict[str, dict[str, int]] = defaultdict(dict)
    for row in session.execute(
        select(
            ProviderService.provider_id, ProviderService.service_key, ProviderService.rate_pence
        ).where(ProviderService.provider_id.in_(listed))
    ):
        rates[row.provider_id][row.service_key] = row.rate_pence
        facts[row.provider_id].services.append(row)
    for row in session.execute(
        select(
            ComplianceItem.provider_id,
            ComplianceItem.kind,
            ComplianceItem.status,
            ComplianceItem.issued_on,
            ComplianceItem.expires_on,
        ).where(
            ComplianceItem.provider_id.in_(listed),
            ComplianceItem.status == ComplianceStatus.VERIFIED,
        )
    ):
        facts[row.provider_id].compliance_items.append(row)
    approved: dict[str, set[str]] = defaultdict(set)
    suspended: set[str] = set()
    for provider_id, listing_agency, status in session.execute(
        select(
            ProviderListing.provider_id, ProviderListing.agency_id, ProviderListing.status
        ).where(ProviderListing.provider_id.in_(listed))
    ):
        if status is ListingStatus.APPROVED:
            approved[provider_id].add(listing_agency)
        elif status is ListingStatus.SUSPENDED:
            suspended.add(provider_id)
    isf: dict[str, set[str]] = defaultdict(set)
    for provider_id, council_id in session.execute(
        select(IsfApproval.provider_id, IsfApproval.council_id).where(
            IsfApproval.provider_id.in_(listed), IsfApproval.approved.is_(True)
        )
    ):
        isf[provider_id].add(council_id)
    regulated = frozenset(session.scalars(select(ServiceType.key).where(ServiceType.regulated)))

    records = [
        matching.ProviderRecord(
            provider_id=p.id,
            lat=p.lat,
            lon=p.lon,
            travel_radius_km=p.travel_radius_km,
            rates_pence=rates.get(p.id, {}),
            availability=mask_from_hex(p.availability_mask),
            approved_agencies=frozenset(approved.get(p.id, ())),
            suspended=p.id in suspended,
            compliance_valid_until=compliance.compliance_valid_until(
                facts.get(p.id) or _Facts(),  # type: ignore[arg-type]
                today,
                regulated,
            ),
            isf_approved_councils=frozenset(isf.get(p.id, ())),
            capacity_hours_per_week=p.capacity_hours_per_week,
            gender=p.gender,
            languages=frozenset(p.languages or ()),
        )
        for p in providers
    ]
    base = matching.ProviderPool.build(records, regulated_services=regulated, services=services)
    row_of = base.row_of

    away = session.execute(
        select(
            AvailabilityException.provider_id,
            AvailabilityException.starts_on,
            AvailabilityException.ends_on,
        ).where(AvailabilityException.provider_id.in_(listed))
    ).all()
    cqc = [
        (row_of[pid], item.issued_on, item.expires_on)
        for pid, f in facts.items()
        if pid in row_of
        for item in f.compliance_items
        if item.kind is ComplianceKind.CQC_REGISTRATION
    ]
    return PoolSnapshot(
        base=base,
        base_index=matching_index.pool_index(base),
        away_rows=np.array([row_of[r.provider_id] for r in away], dtype=np.int64),
        away_from=np.array([r.starts_on.toordinal() for r in away], dtype=np.int64),
        away_until=np.array([r.ends_on.toordinal() for r in away], dtype=np.int64),
        # Same rule as compliance.cqc_registered: a verified registration issued by the day
        # (or undated) that has not expired before it.
        cqc_rows=np.array([r for r, _, _ in cqc], dtype=np.int64),
        cqc_from=np.array(
            [issued.toordinal() if issued else dt.date.min.toordinal() for _, issued, _ in cqc],
            dtype=np.int64,
        ),
        cqc_until=np.array(
            [until.toordinal() if until else dt.date.max.toordinal() for _, _, until in cqc],
            dtype=np.int64,
        ),
    )


def committed_hours(session: Session, agency_id: str) -> dict[str, float]:
    """Weekly hours each of the agency's providers gives in active or paused arrangements."""
    rows = session.execute(
        select(Arrangement.provider_id, func.sum(ArrangementVersion.minutes_per_week))
        .join(
            ArrangementVersion,
            (ArrangementVersion.arrangement_id == Arrangement.id)
            & (ArrangementVersion.version == Arrangement.current_version),
        )
        .where(
            Arrangement.provider_id.in_(_listed(agency_id)),
            Arrangement.status.in_([ArrangementStatus.ACTIVE, ArrangementStatus.PAUSED]),
        )
        .group_by(Arrangement.provider_id)
    )
    return {provider_id: (minutes or 0) / 60 for provider_id, minutes in rows}


MAX_DELTA = 64  # changed providers kept as a delta; past this the arrays are stored whole


@dataclass
class _Held:
    """Stored arrays this process has read: the build of ``built`` on ``day``, and the
    same arrays patched to generation ``patched_to`` (``patched``), from which the next
    change's patch starts."""

    built: int
    day: dt.date
    snapshot: PoolSnapshot
    patched_to: int | None = None
    patched: PoolSnapshot | None = None
    changed: frozenset[str] = frozenset()  # the providers patched in since the build


# What this process holds, per agency. None (the default) keeps nothing: the web's inline
# jobs and forking workers read the row every time. The pair (built_generation, built_on)
# names one stored build: every store is a compare-and-set that sets built_generation to the
# generation it read before its data, on that day, so two builds under one pair read the
# same inputs; likewise a delta is stored only under the generations it was made for, and
# is current only while no later change exists.
_kept: dict[str, _Held] | None = None


def keep_in_memory(enabled: bool = True) -> None:
    """Keep the stored arrays read by this process between jobs (a long-lived worker)."""
    global _kept
    _kept = {} if enabled else None


def load_snapshot(session: Session, agency_id: str, today: dt.date) -> PoolSnapshot:
    """The agency's stored snapshot when current; when only some providers changed since it
    was built, it patched with their rows (the stored delta when it is current, else read
    afresh and kept as the delta); else a fresh one, stored for the next job."""
    return load_snapshot_at(session, agency_id, today)[0]


def load_snapshot_at(session: Session, agency_id: str, today: dt.date) -> tuple[PoolSnapshot, int]:
    """:func:`load_snapshot` and the pool's generation read before its data (the data is at
    least as new: a ranking made from it is current as of that generation)."""
    snapshot, state = _load_snapshot(session, agency_id, today)
    return snapshot, state.generation if state is not None else 0


def _load_snapshot(
    session: Session, agency_id: str, today: dt.date
) -> tuple[PoolSnapshot, _State | None]:
    from agency.introductions import pool_patch

    kept = _kept.get(agency_id) if _kept is not None else None
    if kept is not None and kept.day != today:
        kept = None
    state = _fetch_state(session, agency_id, today, kept.built if kept else None)
    stored: PoolSnapshot | None = None
    if state is not None and state.built_today and state.built_generation is not None:
        if kept is not None and state.built_generation == kept.built:
            stored = kept.snapshot  # the build this process holds: its bytes were not sent
        else:
            kept = None
            stored = _unpickled(state.payload, PoolSnapshot)
            if _kept is not None and stored is not None:
                kept = _kept[agency_id] = _Held(state.built_generation, today, stored)
    if state is None or state.built_generation is None or stored is None:
        snapshot = build_snapshot(session, agency_id, today)
        _store(session, agency_id, state.generation if state else None, today, snapshot)
        return snapshot, state
    if state.built_generation == state.generation:
        return stored, state
    if kept is not None and kept.patched is not None and kept.patched_to is not None:
        if kept.patched_to == state.generation:
            return kept.patched, state  # the held arrays, already patched to this generation
        # The held arrays, patched to an earlier generation of this build: only the changes
        # since then are read and patched in, so a worker under a stream of changes patches
        # one provider per change, not every provider changed since the build. Nothing is
        # stored: the stored delta stays relative to the build, for other processes.
        # Past MAX_DELTA providers since the build, the path below stores the arrays whole.
        onward = pool_patch.patched(
            session, agency_id, today, kept.patched, kept.patched_to, state.generation
        )
        if onward is not None and len(kept.changed | onward[1].changed) <= MAX_DELTA:
            kept.patched_to, kept.patched = state.generation, onward[0]
            kept.changed |= onward[1].changed
            return onward[0], state
    delta = _unpickled(state.delta, pool_patch.PoolDelta)
    if delta is not None and (delta.built, delta.generation) == (
        state.built_generation,
        state.generation,
    ):
        applied = pool_patch.apply(stored, delta)
        if applied is not None:
            if kept is not None:
                kept.patched_to, kept.patched = state.generation, applied
                kept.changed = delta.changed
            return applied, state
    # The generation was read before the data: data at least as new as it, so storing
    # under it can only be conservative (a later bump forces a rebuild or another patch).
    found = pool_patch.patched(
        session, agency_id, today, stored, state.built_generation, state.generation
    )
    if found is None:
        snapshot = build_snapshot(session, agency_id, today)
    else:
        snapshot, delta = found
        if len(delta.changed) <= MAX_DELTA:
            _store_delta(session, agency_id, today, delta)
            if kept is not None:
                kept.patched_to, kept.patched = state.generation, snapshot
                kept.changed = delta.changed
            return snapshot, state
    _store(session, agency_id, state.generation, today, snapshot)
    return snapshot, state


def _unpickled(payload: bytes | None, kind: type) -> Any:
    """Our own pickled ``kind`` of the current FORMAT, else None (rebuilt)."""
    if payload is None:
        return None
    found = pickle.loads(payload)  # noqa: S301 - our own rows, written below
    if not isinstance(found, kind) or getattr(found, "format", None) != FORMAT:
        return None
    return found


@dataclass(frozen=True)
class _State:
    generation: int
    built_generation: int | None
    built_today: bool
    payload: bytes | None  # the stored arrays, when built today and not the ones held
    delta: bytes | None  # the changed providers' rows, only when built today


def _fetch_state(
    session: Session, agency_id: str, today: dt.date, held: int | None = None
) -> _State | None:
    """The pool's generations and, when built today, its stored arrays (unless they are the
    build ``held`` in memory, built today) and delta: one round trip.

    On PostgreSQL in binary (as text, bytea travels hex: 10x slower).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        cursor = connection.connection.driver_connection.cursor(binary=True)  # type: ignore[union-attr]
        try:
            cursor.execute(
                "SELECT generation, built_generation, built_on = %s,"
                " CASE WHEN built_on = %s AND built_generation IS DISTINCT FROM %s"
                " THEN payload END,"
                " CASE WHEN built_on = %s THEN delta END"
                " FROM match_pool_cache WHERE agency_id = %s",
                (today, today, held, today, agency_id),
            )
            row = cursor.fetchone()
        finally:
            cursor.close()
    else:
        found = session.execute(
            select(
                MatchPoolCache.generation,
                MatchPoolCache.built_generation,
                MatchPoolCache.built_on,
                MatchPoolCache.payload,
                MatchPoolCache.delta,
            ).where(MatchPoolCache.agency_id == agency_id)
        ).one_or_none()
        row = None
        if found is not None:
            fresh = found[2] == today
            wanted = fresh and (held is None or found[1] != held)
            row = (found[0], found[1], fresh, found[3] if wanted else None,
                   found[4] if fresh else None)  # fmt: skip
    if row is None:
        return None
    payload = bytes(row[3]) if row[3] is not None else None
    delta = bytes(row[4]) if row[4] is not None else None
    return _State(int(row[0]), row[1], bool(row[2]), payload, delta)


# The store's transaction on PostgreSQL, set in one round trip. Best effort: never wait
# behind a provider change (it makes this copy stale). Committed without waiting for the
# WAL flush (synchronous_commit off, this transaction only): a crash can lose the copy,
# never keep half of it (the row then holds the previous, consistent one), and any later
# synchronous commit, such as the next job's start mark, flushes it anyway (the match job's
# own commit does not wait either: agency.db.commit_without_waiting_for_disk). Saves the
# job the wait for a ~3.6 MB flush at 10k providers after each patch or rebuild.
_STORE_SETTINGS = text(
    "SELECT set_config('lock_timeout', '500ms', true),"
    " set_config('synchronous_commit', 'off', true)"
)


def _store(
    session: Session, agency_id: str, generation: int | None, today: dt.date, snapshot: PoolSnapshot
) -> None:
    """Keep the snapshot in its own short transaction, unless a change has bumped it since."""
    payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    values = {"built_on": today, "payload": payload, "delta": None, "updated_at": utcnow()}
    try:
        with own_transaction(session.get_bind()) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(_STORE_SETTINGS)
            _write(connection, session, agency_id, generation, values)
    except DBAPIError:
        return  # rolled back: the next build tries again


def _store_delta(session: Session, agency_id: str, today: dt.date, delta: Any) -> None:
    """Keep the changed providers' rows beside the stored arrays they patch, unless a change
    (or a store of the whole arrays) has moved the pool on since: a compare-and-set on both
    generations and the day, so a delta is only ever applied to the arrays it was made for."""
    values = {
        "delta": pickle.dumps(delta, protocol=pickle.HIGHEST_PROTOCOL),
        "updated_at": utcnow(),
    }
    try:
        with own_transaction(session.get_bind()) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(_STORE_SETTINGS)
            connection.execute(
                update(MatchPoolCache)
                .where(
                    MatchPoolCache.agency_id == agency_id,
                    MatchPoolCache.generation == delta.generation,
                    MatchPoolCache.built_generation == delta.built,
                    MatchPoolCache.built_on == today,
                )
                .values(**values)
            )
    except DBAPIError:
        return  # rolled back: the next job patches again


def _write(
    connection: Any,
    session: Session,
    agency_id: str,
    generation: int | None,
    values: dict[str, Any],
) -> None:
    if generation is None:
        stmt = _insert(session)(MatchPoolCache).values(
            agency_id=agency_id, generation=0, built_generation=0, **values
        )
        connection.execute(stmt.on_conflict_do_nothing())
    else:
        stored = connection.execute(
            update(MatchPoolCache)
            .where(
                MatchPoolCache.agency_id == agency_id,
                MatchPoolCache.generation == generation,
            )
            .values(built_generation=generation, **values)
        ).rowcount
        if stored:  # the changes now in the stored arrays are no longer needed
            connection.execute(
                delete(MatchPoolChange).where(
                    MatchPoolChange.agency_id == agency_id,
                    MatchPoolChange.generation <= generation,
                )
            )


class AgencyPools:
    """Pools of one agency as of any start date, from the stored snapshot (one read per job)."""

    def __init__(self, session: Session, agency_id: str, today: dt.date) -> None:
        self.snapshot, self.generation = load_snapshot_at(session, agency_id, today)
        self.committed = committed_hours(session, agency_id)
        self.ratings = agency_ratings(session, agency_id)
        self._pools: dict[dt.date, matching.ProviderPool] = {}

    def pool(self, on: dt.date) -> matching.ProviderPool:
        if on not in self._pools:
            self._pools[on] = self.snapshot.on(on, self.committed, self.ratings)
        return self._pools[on]
