"""Request-independent arrays derived from a ``ProviderPool``, built once per pool.

``pool_index(pool)`` is cached per pool object (a weak reference: it goes when
the pool goes). It holds what every request would otherwise recompute: unit
vectors and reach thresholds for a conservative great-circle pre-filter,
contiguous per-service / per-agency / per-council / per-language / per-rate
columns, the provider-only parts of the score, and the distinct availability
patterns.

The pre-filter: for unit vectors u, v the dot product is cos of the central
angle, so ``d <= r`` iff ``u . v >= cos(r / R)``. ``cos_reach`` uses the angle
plus a margin of ``REACH_MARGIN_RAD`` (about 6 m), so it never drops a provider
the exact haversine check (``candidates._too_far``) would keep; that exact check
still runs on the rows that pass.

``chord_km`` turns those dot products into distances with a proven error
bound, so that scoring can rule out providers that cannot reach the top k
before paying for the exact haversine (see ``matching.scoring``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import features
from matching.geo import EARTH_RADIUS_KM
from matching.pool import BoolArray, FloatArray, IntArray, ProviderPool

REACH_MARGIN_RAD = 1e-6  # about 6 m, far above the rounding error of a dot product
CHORD_MARGIN_KM = 0.01  # far above the rounding error of the chord distance (< 1 m)


@dataclass(frozen=True, eq=False)
class PoolIndex:
    """Derived arrays of one pool (row i is provider i, as in the pool)."""

    unit_t: FloatArray  # (3, n) unit vectors of the providers' bases, one row per axis
    cos_reach: FloatArray  # dot >= this may be within the travel radius
    active: BoolArray  # not suspended
    compliance_days: npt.NDArray[np.int32]  # as the pool's (date ordinals fit in 32 bits)
    offers_t: BoolArray  # (n_services, n): offers service j (bit j of ``pool.services``)
    has_free: BoolArray  # free hours > 0
    free: FloatArray  # capacity - committed
    agencies_t: BoolArray  # (n_agencies, n), C-contiguous rows
    isf_t: BoolArray  # (n_councils, n)
    languages_t: BoolArray  # (n_languages, n)
    rates_t: IntArray  # (n_services, n) pence per hour, -1 where not offered
    pattern: IntArray  # (n,) row of the provider's availability in ``patterns``
    patterns: npt.NDArray[np.uint64]  # (u, 6) distinct availability masks
    load_norm: FloatArray  # the provider-only normalised features (``matching.features``)
    reliability_norm: FloatArray
    rating_norm: FloatArray
    slack: FloatArray  # free / capacity, clipped: times the urgency level


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """(n, 3) unit vectors of points given in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    vectors: FloatArray = np.stack(
        [cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1
    )
    return vectors


def _build(pool: ProviderPool) -> PoolIndex:
    angle = pool.radius_km / EARTH_RADIUS_KM + REACH_MARGIN_RAD
    cos_reach = np.where(angle >= np.pi, -2.0, np.cos(np.minimum(angle, np.pi)))
    cos_reach = np.where(pool.radius_km < 0, 2.0, cos_reach)  # d > r always: nobody
    capacity = pool.capacity_hours
    free = capacity - pool.committed_hours
    if len(pool):
        patterns, pattern = np.unique(pool.availability, axis=0, return_inverse=True)
    else:
        patterns, pattern = pool.availability.copy(), np.zeros(0, dtype=np.int64)
    return PoolIndex(
        unit_t=np.ascontiguousarray(unit_vectors(pool.lat, pool.lon).T),
        cos_reach=cos_reach,
        active=~pool.suspended,
        compliance_days=pool.compliance_days.astype(np.int32),
        offers_t=np.ascontiguousarray(
            (
                pool.services[None, :]
                >> np.arange(len(pool.service_index), dtype=np.uint64)[:, None]
                & np.uint64(1)
            ).astype(bool)
        ),
        has_free=free > 0,
        free=free,
        agencies_t=np.ascontiguousarray(pool.agencies.T),
        isf_t=np.ascontiguousarray(pool.isf_councils.T),
        languages_t=np.ascontiguousarray(pool.languages.T),
        rates_t=np.ascontiguousarray(pool.rates.T),
        pattern=np.asarray(pattern, dtype=np.int64).reshape(-1),
        patterns=np.ascontiguousarray(patterns, dtype=np.uint64),
        load_norm=features.load(pool.load_hours, capacity),
        reliability_norm=features.reliability(pool.reliability),
        rating_norm=features.rating(pool.rating),
        slack=features.slack(free, capacity),
    )


_CACHE: weakref.WeakKeyDictionary[ProviderPool, PoolIndex] = weakref.WeakKeyDictionary()


def pool_index(pool: ProviderPool) -> PoolIndex:
    """The pool's derived arrays, built on first use and kept while the pool lives."""
    found = _CACHE.get(pool)
    if found is None:
        found = _build(pool)
        _CACHE[pool] = found
    return found


@dataclass(frozen=True)
class StaticKey:
    """The parts of a request that the request-independent checks (0-5) look at."""

    service_bits: int
    services_known: bool
    needs_cqc: bool
    agency_col: int
    start_day: int
    isf_col: int | None  # None: not ISF-funded; -1: ISF-funded, council unknown


Selection = slice | IntArray  # the whole pool (``slice(None)``: views) or some rows
WHOLE = slice(None)


def static_mask(
    pool: ProviderPool, index: PoolIndex, key: StaticKey, sel: Selection = WHOLE
) -> BoolArray:
    """Providers passing checks 0-5 (service ... not_isf_approved), over ``sel``."""
    n = len(pool) if isinstance(sel, slice) else sel.size
    if not key.services_known or key.agency_col < 0 or key.isf_col == -1:
        return np.zeros(n, dtype=bool)
    mask: BoolArray = index.active[sel] & (index.compliance_days[sel] >= key.start_day)
    offered = index.offers_t.shape[0]
    if key.service_bits >> offered:  # a service no provider offers
        mask[:] = False
    for bit in range(offered):
        if key.service_bits >> bit & 1:
            mask &= index.offers_t[bit, sel]
    if key.needs_cqc:
        mask &= pool.cqc[sel]
    mask &= index.agencies_t[key.agency_col, sel]
    if key.isf_col is not None:
        mask &= index.isf_t[key.isf_col, sel]
    return mask


def cosines(index: PoolIndex, lat: float, lon: float, sel: Selection = WHOLE) -> FloatArray:
    """Dot product of the point's unit vector with every provider's (or the rows ``sel``).

    A provider is possibly within reach iff this is >= its ``cos_reach``.
    Axis by axis, not a matrix product: a (3,) @ (3, n) product goes to BLAS,
    which starts threads of its own; the last-bit rounding differs, far inside
    the margins.
    """
    x, y, z = unit_vectors(np.array([lat]), np.array([lon]))[0].tolist()
    unit_t = index.unit_t
    if isinstance(sel, slice):
        dot: FloatArray = x * unit_t[0, sel]
        dot += y * unit_t[1, sel]
        dot += z * unit_t[2, sel]
        return dot
    dot = x * np.take(unit_t[0], sel)
    dot += y * np.take(unit_t[1], sel)
    dot += z * np.take(unit_t[2], sel)
    return dot


def chord_km(cosine: FloatArray) -> tuple[FloatArray, float]:
    """(approximate distance, bound on its error) in km, from dot products of unit vectors.

    The chord c = |u - v| = sqrt(2 - 2 u.v) gives d = 2 R asin(c / 2)
    = R (c + c^3/24 + 3c^5/640 + ...) <= R (c + c^3/24 + c^5) for every c <= 2.
    We take R c; the error bound is that tail at the largest chord plus
    ``CHORD_MARGIN_KM`` for the rounding of the dot product (under 1 m). The
    bound holds against ``geo.haversine_km`` (the same formula, 2 R asin(c / 2)).
    """
    chord = np.sqrt(np.maximum(2.0 - 2.0 * cosine, 0.0))
    approx: FloatArray = EARTH_RADIUS_KM * chord
    widest = min(float(chord.max(initial=0.0)), 2.0)
    error = CHORD_MARGIN_KM + EARTH_RADIUS_KM * (widest**3 / 24.0 + widest**5)
    return approx, error
