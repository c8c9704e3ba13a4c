"""Care requests and the hard constraints that decide who may be suggested.

Constraints are checked in the fixed order of ``CONSTRAINT_CODES``; ``eligible``
reports for every provider the first one it fails (the manager's dashboard
shows one reason per provider), ``why_not`` lists all of them for one provider.
The codes are stable: they are stored and shown in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

from matching.availability import Mask, empty_mask, overlap_slots, slot_count
from matching.geo import EARTH_RADIUS_KM, haversine_km
from matching.index import WHOLE, Selection, StaticKey, cosines, pool_index, static_mask
from matching.pool import BoolArray, FloatArray, IntArray, ProviderPool

Urgency = Literal["routine", "soon", "hospital_discharge"]

CONSTRAINT_CODES: tuple[str, ...] = (
    "service_not_offered",
    "regulated_without_cqc",
    "not_approved_by_agency",
    "suspended",
    "compliance_expired",
    "not_isf_approved",
    "too_far",
    "availability",
    "no_capacity",
    "rate_above_cap",
    "required_gender",
    "required_language",
)
ELIGIBLE = -1  # first_failure value of an eligible provider
_EPS = 1e-9  # float slack for share comparisons (hours are multiples of 0.5)
BAND_SHARE = 0.25  # below this share of the pool, checks run on the latitude band only


@dataclass(frozen=True)
class CareRequestSpec:
    """What a care seeker needs, as the matcher sees it.

    ``windows`` is the weekly slot mask of when support is wanted (an empty mask
    means "any time"). ``min_window_share`` 1.0 means one provider must cover
    all the windows and all the hours; below 1 a provider covering that share
    qualifies, and the batch assignment may split the hours between providers.
    """

    request_id: str
    services: tuple[str, ...]
    hours_per_week: float
    lat: float
    lon: float
    agency: str
    start_date: date
    windows: Mask = field(default_factory=empty_mask)
    min_window_share: float = 1.0
    council: str | None = None
    isf_funded: bool = False
    max_rate_pence: int | None = None
    required_gender: str | None = None
    required_languages: frozenset[str] = frozenset()
    preferred_gender: str | None = None
    preferred_languages: frozenset[str] = frozenset()
    known_provider_ids: frozenset[str] = frozenset()
    urgency: Urgency = "routine"
    regulated_services: frozenset[str] = frozenset()  # added to the pool's set


@dataclass(frozen=True)
class _Prepared:
    """A request translated into the pool's bit and column indexes, once."""

    request: CareRequestSpec
    service_bits: np.uint64
    services_known: bool
    service_cols: list[int]
    needs_cqc: bool
    agency_col: int
    council_col: int
    start_day: int
    window_slots: int
    gender_code: int
    language_cols: list[int]
    languages_known: bool


def prepare(pool: ProviderPool, request: CareRequestSpec) -> _Prepared:
    """Resolve a request's keys against the pool (unknown keys match nobody)."""
    bits, known = pool.service_bits(request.services)
    regulated = pool.regulated_services | request.regulated_services
    return _Prepared(
        request=request,
        service_bits=np.uint64(bits),
        services_known=known,
        service_cols=[pool.service_index[s] for s in request.services if s in pool.service_index],
        needs_cqc=any(s in regulated for s in request.services),
        agency_col=pool.agency_index.get(request.agency, -1),
        council_col=-1 if request.council is None else pool.council_index.get(request.council, -1),
        start_day=request.start_date.toordinal(),
        window_slots=slot_count(request.windows),
        gender_code=(
            -1
            if request.required_gender is None
            else pool.gender_index.get(request.required_gender, -2)
        ),
        language_cols=[
            pool.language_index[x] for x in request.required_languages if x in pool.language_index
        ],
        languages_known=all(x in pool.language_index for x in request.required_languages),
    )


Check = Callable[[ProviderPool, _Prepared, IntArray], BoolArray]


def _all(rows: IntArray, value: bool) -> BoolArray:
    return np.full(rows.shape, value, dtype=bool)


def _service(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    if not p.services_known:
        return _all(rows, True)
    fails: BoolArray = (pool.services[rows] & p.service_bits) != p.service_bits
    return fails


def _cqc(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    # Personal care is a regulated activity (HSCA 2008): CQC-registered providers only.
    return ~pool.cqc[rows] if p.needs_cqc else _all(rows, False)


def _agency(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    return _all(rows, True) if p.agency_col < 0 else ~pool.agencies[rows, p.agency_col]


def _suspended(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    return pool.suspended[rows]


def _compliance(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    # Missing items are stored as -1, which is before any start date.
    fails: BoolArray = pool.compliance_days[rows] < p.start_day
    return fails


def _isf(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    # ISF is council money: the provider must be on that council's ISF list.
    if not p.request.isf_funded:
        return _all(rows, False)
    return _all(rows, True) if p.council_col < 0 else ~pool.isf_councils[rows, p.council_col]


def distances_km(pool: ProviderPool, request: CareRequestSpec, rows: IntArray) -> FloatArray:
    """Great-circle km from the request to the given provider rows."""
    return haversine_km(request.lat, request.lon, pool.lat[rows], pool.lon[rows])


def _too_far(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    fails: BoolArray = distances_km(pool, p.request, rows) > pool.radius_km[rows]
    return fails


def _availability(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    if p.window_slots == 0:
        return _all(rows, False)
    shared = overlap_slots(pool.availability[rows], p.request.windows)
    needed = p.request.min_window_share * p.window_slots - _EPS
    fails: BoolArray = (shared < needed) | (shared == 0)
    return fails


def _capacity(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    free = pool.capacity_hours[rows] - pool.committed_hours[rows]
    needed = p.request.hours_per_week * p.request.min_window_share - _EPS
    fails: BoolArray = (free < needed) | (free <= 0)
    return fails


def _rate(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    cap = p.request.max_rate_pence
    if cap is None or not p.service_cols:
        return _all(rows, False)
    rates = pool.rates[rows[:, None], np.array(p.service_cols, dtype=np.int64)]
    fails: BoolArray = np.asarray((rates > cap).any(axis=1), dtype=bool)
    return fails


def _gender(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    if p.request.required_gender is None:
        return _all(rows, False)
    fails: BoolArray = pool.gender[rows] != p.gender_code
    return fails


def _language(pool: ProviderPool, p: _Prepared, rows: IntArray) -> BoolArray:
    if not p.request.required_languages:
        return _all(rows, False)
    if not p.languages_known:
        return _all(rows, True)
    spoken = pool.languages[rows[:, None], np.array(p.language_cols, dtype=np.int64)]
    fails: BoolArray = np.asarray(~spoken.all(axis=1), dtype=bool)
    return fails


CHECKS: tuple[Check, ...] = (
    _service,
    _cqc,
    _agency,
    _suspended,
    _compliance,
    _isf,
    _too_far,
    _availability,
    _capacity,
    _rate,
    _gender,
    _language,
)


def latitude_band(pool: ProviderPool, request: CareRequestSpec) -> tuple[int, int]:
    """[lo, hi) in latitude order: every provider that may be within the largest radius."""
    dlat = np.degrees(pool.max_radius_km / EARTH_RADIUS_KM) + 1e-9
    lo, hi = np.searchsorted(pool.lat_sorted, [request.lat - dlat, request.lat + dlat + 1e-12])
    return int(lo), int(hi)


def bounding_rows(pool: ProviderPool, request: CareRequestSpec) -> IntArray:
    """Rows that may lie within the pool's largest travel radius of the request.

    A latitude band (binary search on latitude-sorted rows), then the exact
    longitude extent of a spherical cap: no provider within reach is dropped.
    """
    lo, hi = latitude_band(pool, request)
    delta = pool.max_radius_km / EARTH_RADIUS_KM  # angular radius
    rows = pool.lat_order[lo:hi]
    cos_lat = np.cos(np.radians(request.lat))
    ratio = np.sin(delta) / cos_lat if cos_lat > 0 else 2.0
    if ratio >= 1.0:
        return rows
    dlon = np.degrees(np.arcsin(ratio)) + 1e-9
    gap = np.abs((pool.lon[rows] - request.lon + 180.0) % 360.0 - 180.0)
    kept: IntArray = rows[gap <= dlon]
    return kept


def eligible(
    pool: ProviderPool, request: CareRequestSpec
) -> tuple[BoolArray, npt.NDArray[np.int8]]:
    """(eligible mask, first failure index into CONSTRAINT_CODES or -1) per provider.

    Each check runs only on providers that passed every earlier one; the
    distance check first drops rows outside the bounding box.
    """
    prepared = prepare(pool, request)
    first = np.full(len(pool), ELIGIBLE, dtype=np.int8)
    rows: IntArray = np.arange(len(pool), dtype=np.int64)
    too_far = CONSTRAINT_CODES.index("too_far")
    for code, check in enumerate(CHECKS):
        if code == too_far:
            near = np.zeros(len(pool), dtype=bool)
            near[bounding_rows(pool, request)] = True
            first[rows[~near[rows]]] = code
            rows = rows[near[rows]]
        failed = check(pool, prepared, rows)
        first[rows[failed]] = code
        rows = rows[~failed]
    return first == ELIGIBLE, first


def static_key(p: _Prepared) -> StaticKey:
    """The part of a prepared request that checks 0-5 depend on."""
    return StaticKey(
        int(p.service_bits),
        p.services_known,
        p.needs_cqc,
        p.agency_col,
        p.start_day,
        p.council_col if p.request.isf_funded else None,
    )


def eligible_rows(pool: ProviderPool, request: CareRequestSpec) -> IntArray:
    """Rows of the eligible providers, ascending (the fast path used by scoring).

    Same set as ``eligible``'s: ``rows_in_reach`` then the exact distance check.
    """
    return eligible_with_distance(pool, request)[0]


def eligible_with_distance(
    pool: ProviderPool, request: CareRequestSpec
) -> tuple[IntArray, FloatArray]:
    """``eligible_rows`` and the haversine distance (km) to each of those rows."""
    rows, _ = rows_in_reach(pool, request)
    distance = distances_km(pool, request, rows)
    kept = distance <= pool.radius_km[rows]
    return rows[kept], distance[kept]


def rows_in_reach(pool: ProviderPool, request: CareRequestSpec) -> tuple[IntArray, FloatArray]:
    """(rows, cosine) of providers passing every check but the exact distance one, ascending.

    Two stages. First the checks that read one byte (or a small integer) per
    provider run as whole-pool operations on cached arrays (``matching.index``):
    services, CQC, agency, suspension, compliance, ISF, free capacity, required
    gender and languages, and availability (one overlap per distinct pattern,
    looked up per provider). In a dense pool that leaves about a tenth of it;
    only those rows are gathered for the checks on 8-byte values: hours free,
    rate caps and the distance pre-filter, the conservative dot product of unit
    vectors (``matching.index``). The order of the checks does not matter here,
    only the set. ``cosine`` is each row's dot product with the request's unit
    vector; ``eligible`` = these rows within their radius by the exact haversine.
    """
    p = prepare(pool, request)
    index = pool_index(pool)
    # A national directory: only a thin latitude band can be in reach. Checking
    # just those rows gives the same set (the band is conservative, see
    # ``bounding_rows``); in a dense local pool the band is most of it and
    # whole-pool operations on views are faster than gathering.
    lo, hi = latitude_band(pool, request)
    sel: Selection = WHOLE
    if hi - lo < BAND_SHARE * len(pool):
        sel = np.sort(bounding_rows(pool, request))
    mask = static_mask(pool, index, static_key(p), sel) & index.has_free[sel]
    if request.required_gender is not None:
        mask &= pool.gender[sel] == p.gender_code
    if request.required_languages:
        mask &= p.languages_known
        for col in p.language_cols:
            mask &= index.languages_t[col, sel]
    if p.window_slots:
        shared = overlap_slots(index.patterns, request.windows)
        needed = request.min_window_share * p.window_slots - _EPS
        pattern_fails = (shared < needed) | (shared == 0)
        if pattern_fails.any():  # np.take: much faster than fancy indexing here
            mask &= ~np.take(pattern_fails, index.pattern[sel])
    found = np.flatnonzero(mask)
    rows: IntArray = found if isinstance(sel, slice) else sel[found]
    keep = ~(np.take(index.free, rows) < request.hours_per_week * request.min_window_share - _EPS)
    if request.max_rate_pence is not None:
        for col in p.service_cols:
            keep &= ~(np.take(index.rates_t[col], rows) > request.max_rate_pence)
    rows = np.take(rows, np.flatnonzero(keep))  # faster than boolean indexing
    cosine = cosines(index, request.lat, request.lon, rows)
    near = np.flatnonzero(cosine >= np.take(index.cos_reach, rows))
    return np.take(rows, near), np.take(cosine, near)


def why_not(pool: ProviderPool, request: CareRequestSpec, provider_id: str) -> list[str]:
    """Every constraint code the provider fails for this request ([] if eligible)."""
    if provider_id not in pool.row_of:
        raise KeyError(f"provider not in pool: {provider_id!r}")
    prepared = prepare(pool, request)
    row = np.array([pool.row_of[provider_id]], dtype=np.int64)
    return [
        code
        for code, check in zip(CONSTRAINT_CODES, CHECKS, strict=True)
        if bool(check(pool, prepared, row)[0])
    ]
