"""An agency's stored pool, patched with the providers that changed since it was built.

Every change to what the matcher reads logs the providers it touched with the pool's new
generation (``pool_cache.bump_generation``: rows of ``match_pool_changes``). A match job
whose stored arrays are a few generations old reads only those providers (the same narrow
queries as a full build, filtered to them), builds their rows with the engine's own
``ProviderPool.build`` and ``matching.index``, and writes those rows into copies of the
stored arrays: milliseconds at 10,000 providers instead of seconds. Those rows are kept
as a :class:`PoolDelta` beside the stored arrays, so the next job applies them in memory
without reading any provider (``pool_cache.load_snapshot``).

It declines (the caller then rebuilds everything) whenever a patch could differ from a
build: a change to the whole agency, more than :data:`MAX_PATCHED` providers, a provider
joining or leaving the agency's list, a service, agency, council, language or gender the
stored pool has no column for, or a change to which services are regulated. Rows are
patched in place, so row order, ids and their tie-break ranks do not move; a distinct
availability pattern not yet in the stored index is appended to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import matching
from agency.introductions.pool_cache import (
    FORMAT,
    MatchPoolChange,
    PoolSnapshot,
    build_snapshot,
)
from matching import index as matching_index
from matching.index import PoolIndex

MAX_PATCHED = 500  # past this many changed providers, a full build is as quick
# Pool arrays derived from the row order as a whole, recomputed rather than patched.
_ORDER_FIELDS = frozenset({"id_rank", "lat_order", "lat_sorted"})
# 2-D pool arrays whose columns follow one of the pool's key indexes.
_COLUMNS = {
    "agencies": "agency_index",
    "isf_councils": "council_index",
    "languages": "language_index",
}
_PATTERN_FIELDS = frozenset({"pattern", "pattern_small", "patterns"})


@dataclass(frozen=True)
class PoolDelta:
    """The rows of the providers changed since the stored arrays were built (generation
    ``built``): those arrays patched with them are the pool at ``generation``."""

    built: int
    generation: int
    changed: frozenset[str]
    fresh: PoolSnapshot | None  # their rows as read at ``generation`` (None: none changed)
    format: int = FORMAT


def apply(stored: PoolSnapshot, delta: PoolDelta) -> PoolSnapshot | None:
    """``stored`` (the arrays built at ``delta.built``) patched to ``delta.generation``."""
    if not delta.changed or delta.fresh is None:
        return stored
    return patch(stored, delta.fresh, set(delta.changed))


def changed_providers(
    session: Session, agency_id: str, built: int, current: int
) -> set[str] | None:
    """Providers changed after generation ``built`` up to ``current`` (None: rebuild)."""
    rows = session.scalars(
        select(MatchPoolChange.provider_id)
        .where(
            MatchPoolChange.agency_id == agency_id,
            MatchPoolChange.generation > built,
            MatchPoolChange.generation <= current,
        )
        .distinct()
        .limit(MAX_PATCHED + 1)
    ).all()
    if len(rows) > MAX_PATCHED or any(provider_id is None for provider_id in rows):
        return None
    return set(rows)  # type: ignore[arg-type]


def patched(
    session: Session,
    agency_id: str,
    today: dt.date,
    stored: PoolSnapshot,
    built: int,
    current: int,
) -> tuple[PoolSnapshot, PoolDelta] | None:
    """``stored`` (built at generation ``built``) brought up to ``current``, with the delta
    that does it (every provider changed since ``built``), or None: rebuild."""
    changed = changed_providers(session, agency_id, built, current)
    if changed is None:
        return None
    if not changed:
        return stored, PoolDelta(built, current, frozenset(), None)
    base = stored.base
    if any(pid not in base.row_of for pid in changed):
        return None  # a provider joined the agency's list: no row to patch (read nothing)
    catalogue = sorted(base.service_index, key=base.service_index.__getitem__)
    try:
        fresh = build_snapshot(session, agency_id, today, only=changed, services=catalogue)
    except KeyError:  # a service the stored pool has no column for
        return None
    result = patch(stored, fresh, changed)
    if result is None:
        return None
    return result, PoolDelta(built, current, frozenset(changed), fresh)


def patch(stored: PoolSnapshot, fresh: PoolSnapshot, changed: set[str]) -> PoolSnapshot | None:
    """``stored`` with the rows of ``fresh`` (the ``changed`` providers still listed)."""
    base, small = stored.base, fresh.base
    if small.regulated_services != base.regulated_services:
        return None
    if any(pid not in base.row_of for pid in small.ids):
        return None  # a provider joined the agency's list
    if len(small) != sum(pid in base.row_of for pid in changed):
        return None  # a provider left it
    if not len(small):
        return stored
    maps = {}
    for name in ("agency_index", "council_index", "language_index", "gender_index"):
        mine, theirs = getattr(base, name), getattr(small, name)
        if any(key not in mine for key in theirs):
            return None
        maps[name] = np.array(
            [mine[key] for key in sorted(theirs, key=theirs.__getitem__)], dtype=np.int64
        )
    rows = np.array([base.row_of[pid] for pid in small.ids], dtype=np.int64)
    pool = _patch_pool(base, small, rows, maps)
    index = None if stored.base_index is None else _patch_index(stored.base_index, pool, rows)
    if stored.base_index is not None and index is None:
        return None
    away_kept = ~np.isin(stored.away_rows, rows)
    cqc_kept = ~np.isin(stored.cqc_rows, rows)
    return dataclasses.replace(
        stored,
        base=pool,
        base_index=index,
        away_rows=np.concatenate([stored.away_rows[away_kept], rows[fresh.away_rows]]),
        away_from=np.concatenate([stored.away_from[away_kept], fresh.away_from]),
        away_until=np.concatenate([stored.away_until[away_kept], fresh.away_until]),
        cqc_rows=np.concatenate([stored.cqc_rows[cqc_kept], rows[fresh.cqc_rows]]),
        cqc_from=np.concatenate([stored.cqc_from[cqc_kept], fresh.cqc_from]),
        cqc_until=np.concatenate([stored.cqc_until[cqc_kept], fresh.cqc_until]),
    )


def _patch_pool(
    base: matching.ProviderPool,
    small: matching.ProviderPool,
    rows: np.ndarray,
    maps: dict[str, np.ndarray],
) -> matching.ProviderPool:
    n = len(base)
    changes: dict[str, object] = {}
    for f in dataclasses.fields(base):
        value = getattr(base, f.name)
        if f.name in _ORDER_FIELDS or not isinstance(value, np.ndarray) or value.shape[:1] != (n,):
            continue
        part = getattr(small, f.name)
        new = value.copy()
        if f.name in _COLUMNS:
            new[rows] = False
            new[np.ix_(rows, maps[_COLUMNS[f.name]])] = part
        elif f.name == "gender":
            genders = maps["gender_index"]
            new[rows] = np.where(
                part >= 0, genders[np.maximum(part, 0)] if genders.size else -1, -1
            )
        else:
            new[rows] = part
        changes[f.name] = new
    lat, radius = changes["lat"], changes["radius_km"]
    assert isinstance(lat, np.ndarray) and isinstance(radius, np.ndarray)
    if np.array_equal(lat[rows], base.lat[rows]):
        # Nobody moved: a stable sort of the same latitudes gives the same order (the
        # usual case, and the sort is most of a patch's own time at 10k providers).
        order, lat_sorted = base.lat_order, base.lat_sorted
    else:
        order = np.argsort(lat, kind="stable").astype(np.int64)
        lat_sorted = lat[order]
    changes.update(
        lat_order=order,
        lat_sorted=lat_sorted,
        max_radius_km=float(radius.max()) if n else 0.0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _rows(pool: matching.ProviderPool, rows: np.ndarray) -> matching.ProviderPool:
    """The pool of just ``rows`` (same key indexes), for the engine to derive their arrays."""
    n = len(pool)
    taken: dict[str, object] = {
        f.name: getattr(pool, f.name)[rows]
        for f in dataclasses.fields(pool)
        if isinstance(getattr(pool, f.name), np.ndarray) and getattr(pool, f.name).shape[:1] == (n,)
    }
    ids = tuple(pool.ids[r] for r in rows)
    order = np.argsort(taken["lat"], kind="stable")  # type: ignore[arg-type]
    taken.update(
        ids=ids,
        row_of={pid: i for i, pid in enumerate(ids)},
        lat_order=order.astype(np.int64),
        lat_sorted=taken["lat"][order],  # type: ignore[index]
    )
    return dataclasses.replace(pool, **taken)  # type: ignore[arg-type]


def _patch_index(old: PoolIndex, pool: matching.ProviderPool, rows: np.ndarray) -> PoolIndex | None:
    """The stored index with ``rows`` derived afresh by ``matching.index`` (None: unknown shape)."""
    n = len(pool)
    part = matching_index._build(_rows(pool, rows))
    updates: dict[str, object] = {}
    for f in dataclasses.fields(old):
        if f.name in _PATTERN_FIELDS:
            continue
        value, fresh = getattr(old, f.name), getattr(part, f.name)
        if not isinstance(value, np.ndarray):
            return None
        new = value.copy()
        if value.ndim == 1 and value.shape[0] == n:
            new[rows] = fresh
        elif value.ndim == 2 and value.shape[1] == n and f.name.endswith("_t"):
            new[:, rows] = fresh
        else:
            return None
        updates[f.name] = new
    patterns = old.patterns
    mapped = np.empty(len(part.patterns), dtype=np.int64)
    added: list[np.ndarray] = []
    for j, mask in enumerate(part.patterns):
        found = np.flatnonzero((patterns == mask).all(axis=1))
        if found.size:
            mapped[j] = found[0]
        else:
            added.append(mask)
            mapped[j] = len(patterns) + len(added) - 1
    if added:
        patterns = np.vstack([patterns, np.array(added, dtype=np.uint64)])
    pattern = old.pattern.copy()
    pattern[rows] = mapped[part.pattern]
    updates.update(pattern=pattern, patterns=np.ascontiguousarray(patterns, dtype=np.uint64))
    if "pattern_small" in {f.name for f in dataclasses.fields(old)}:
        updates["pattern_small"] = pattern.astype(np.min_scalar_type(max(len(patterns) - 1, 0)))
    return dataclasses.replace(old, **updates)  # type: ignore[arg-type]
