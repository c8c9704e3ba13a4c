"""Candidate pairs for a whole batch of requests, vectorised across requests.

Same result as calling ``scoring.top_candidates`` for each request (the same
checks, features, score summation order and tie-break), but the work that does
not depend on the individual request is done once:

1. Requests are grouped by what the request-independent checks look at
   (services, agency, start date, ISF council, required gender and languages);
   each group's eligible-so-far providers ``S`` come from one whole-pool mask.
2. For a block of the group's requests, a dense (requests x S) pass runs the
   cheap per-request checks at once: the dot-product distance pre-filter, free
   capacity, the rate cap and availability (overlap per distinct pattern).
3. Pruning, exact by construction: the dot product gives each surviving pair a
   distance from the chord, within a proven error bound of the haversine, and
   so an approximate score within a bound ``slack`` of the exact one. A
   request's floor is the k-th best (approximate score - slack) among its pairs
   surely within reach; a pair whose approximate score + slack is below the
   floor scores strictly below k eligible pairs and cannot be chosen (ties
   included), so it is dropped. Typically ~15 pairs per request remain of ~500.
4. The remaining pairs get the exact haversine check, then the exact features
   and score (summed as ``weighted_scores`` does).
5. The best ``k`` per request: the k-th best score per request from a dense
   partition, every pair tied with it kept, then (score, provider id) order.

Blocks run in a small thread pool (NumPy releases the GIL in array
operations); the blocks' results are put together in a fixed order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from matching import features
from matching.availability import overlap_slots
from matching.candidates import _EPS, CareRequestSpec, prepare, static_key
from matching.features import (
    RATE_REFERENCE_PENCE,
    URGENCY_LEVEL,
    Feature,
    PairInputs,
    pruning_slack,
    weighted_sum,
)
from matching.geo import haversine_km
from matching.index import PoolIndex, chord_km, pool_index, static_mask, unit_vectors
from matching.pool import BoolArray, FloatArray, IntArray, ProviderPool
from matching.scoring import Weights

BLOCK_ELEMENTS = 1 << 20  # dense (requests x providers) cells per block


class _Requests:
    """The per-request values the batch needs, as arrays over the request list."""

    def __init__(self, pool: ProviderPool, requests: Sequence[CareRequestSpec]) -> None:
        n = len(requests)
        self.lat = np.array([r.lat for r in requests], dtype=np.float64)
        self.lon = np.array([r.lon for r in requests], dtype=np.float64)
        self.unit = unit_vectors(self.lat, self.lon) if n else np.zeros((0, 3))
        self.share = np.array([r.min_window_share for r in requests], dtype=np.float64)
        self.need = (
            np.array([r.hours_per_week for r in requests], dtype=np.float64) * self.share - _EPS
        )
        self.cap = np.array(
            [np.inf if r.max_rate_pence is None else r.max_rate_pence for r in requests],
            dtype=np.float64,
        )
        self.ceiling = np.array(
            [features.rate_ceiling(r.max_rate_pence) for r in requests], dtype=np.float64
        )
        self.windows = (
            np.stack([r.windows for r in requests]) if n else np.zeros((0, 6), dtype=np.uint64)
        )
        self.slots = np.bitwise_count(self.windows).sum(axis=1, dtype=np.int64)
        self.level = np.array([URGENCY_LEVEL[r.urgency] for r in requests], dtype=np.float64)
        self.gender = np.array(
            [pool.gender_index.get(r.preferred_gender or "", -2) for r in requests], dtype=np.int64
        )
        known = [
            i * len(pool) + pool.row_of[x]
            for i, r in enumerate(requests)
            for x in r.known_provider_ids
            if x in pool.row_of
        ]
        self.known = np.unique(np.array(known, dtype=np.int64))
        sets: dict[frozenset[str], int] = {}
        self.preferred = np.array(
            [
                sets.setdefault(r.preferred_languages, len(sets)) if r.preferred_languages else -1
                for r in requests
            ],
            dtype=np.int64,
        )
        self.preferred_sets = list(sets)


def _group_rows(pool: ProviderPool, index: PoolIndex, request: CareRequestSpec) -> IntArray:
    """Providers passing every check that does not vary inside a group."""
    prepared = prepare(pool, request)
    mask = static_mask(pool, index, static_key(prepared)) & index.has_free
    if request.required_gender is not None:
        mask &= pool.gender == prepared.gender_code
    if request.required_languages:
        if not prepared.languages_known:
            mask[:] = False
        for col in prepared.language_cols:
            mask &= index.languages_t[col]
    rows: IntArray = np.flatnonzero(mask)
    return rows


def _language(
    pool: ProviderPool, req: _Requests, rr: IntArray, rows: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per pair: preferred languages the provider speaks, and how many are preferred."""
    matched = np.zeros(rr.size)
    wanted = np.zeros(rr.size)
    preferred = req.preferred[rr]
    for code in np.unique(preferred[preferred >= 0]).tolist():
        languages = req.preferred_sets[code]
        on = preferred == code
        cols = [pool.language_index[x] for x in languages if x in pool.language_index]
        if cols:
            matched[on] = pool.languages[rows[on][:, None], np.array(cols, dtype=np.int64)].sum(
                axis=1
            )
        wanted[on] = len(languages)
    return matched, wanted


def _kth_largest(rr: IntArray, values: FloatArray, n: int, k: int) -> FloatArray:
    """Each request's k-th largest value (-inf with fewer than k), from a dense partition.

    ``rr`` are request positions in ``range(n)``, ascending, so each request's
    values are contiguous: they are laid out in a (n x most pairs per request)
    matrix padded with -inf.
    """
    counts = np.bincount(rr, minlength=n)
    width = int(counts.max(initial=0))
    if width < k:
        return np.full(n, -np.inf)
    starts = np.cumsum(counts) - counts
    dense = np.full((n, width), -np.inf)
    dense[rr, np.arange(rr.size) - starts[rr]] = values
    kth: FloatArray = np.partition(dense, width - k, axis=1)[:, width - k]
    return kth


def _best(
    rr: IntArray, score: FloatArray, rows: IntArray, n: int, pool: ProviderPool, k: int
) -> IntArray:
    """Positions of each block request's best k pairs, best first, requests ascending.

    ``rr`` are block-local request positions (ascending). Every pair tied with
    a request's k-th best score is kept, so the provider-id tie-break is exact.
    """
    keep = score >= _kth_largest(rr, score, n, k)[rr]
    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((pool.id_rank[rows[kept]], -score[kept], rr[kept]))]
    starts = np.searchsorted(rr[order], rr[order], side="left")
    chosen: IntArray = order[np.arange(order.size) - starts < k]
    return chosen


@dataclass(frozen=True)
class _Pairs:
    """(request, provider) pairs of a block that passed the dense checks, as parallel arrays."""

    rr: IntArray  # block-local request position (ascending)
    cols: IntArray  # column in the group
    rows: IntArray  # pool row
    gr: IntArray  # request index in the batch
    slots: IntArray  # the request's window slots
    shared: IntArray  # slots the provider's availability shares with them
    cosine: FloatArray  # dot product of the two unit vectors

    def take(self, which: BoolArray | IntArray) -> _Pairs:
        """The pairs selected by a mask or positions."""
        return _Pairs(
            self.rr[which],
            self.cols[which],
            self.rows[which],
            self.gr[which],
            self.slots[which],
            self.shared[which],
            self.cosine[which],
        )


def _dense_checks(
    pool: ProviderPool,
    index: PoolIndex,
    req: _Requests,
    block: IntArray,
    group: IntArray,
    rate: tuple[FloatArray, FloatArray] | None,
) -> _Pairs:
    """Pairs passing the distance pre-filter, capacity, rate cap and availability."""
    unit, unit_t = req.unit[block], index.unit_t[:, group]
    # The dot product axis by axis: a k=3 matmul is slow in BLAS and would start
    # BLAS threads inside our own; its last-bit rounding is far inside the margins.
    dot = np.multiply(unit[:, 0:1], unit_t[0])
    term = np.multiply(unit[:, 1:2], unit_t[1])
    dot += term
    np.multiply(unit[:, 2:3], unit_t[2], out=term)
    dot += term
    ok: BoolArray = dot >= index.cos_reach[group]
    ok &= index.free[group] >= req.need[block, None]
    if rate is not None:
        ok &= rate[0] <= req.cap[block, None]
    slots_b = req.slots[block]
    table = None
    if index.patterns.shape[0] <= group.size:  # overlap per distinct pattern, then look up
        table = np.bitwise_count(req.windows[block][:, None, :] & index.patterns[None, :, :])
        table = table.sum(axis=2, dtype=np.int64)
        needed = np.where(slots_b > 0, req.share[block] * slots_b - _EPS, -np.inf)
        enough = (table >= needed[:, None]) & ((table != 0) | (slots_b == 0)[:, None])
        ok &= np.take(enough, index.pattern[group], axis=1)
    flat = np.flatnonzero(ok)  # much faster than a 2-d nonzero
    rr = flat // group.size
    cols = flat - rr * group.size
    rows, gr = group[cols], block[rr]
    slots = slots_b[rr]
    cosine = dot.ravel()[flat]
    if table is not None:
        return _Pairs(rr, cols, rows, gr, slots, table[rr, index.pattern[rows]], cosine)
    shared = overlap_slots(pool.availability[rows], req.windows[gr])
    pairs = _Pairs(rr, cols, rows, gr, slots, shared, cosine)
    return pairs.take((slots == 0) | ((shared >= req.share[gr] * slots - _EPS) & (shared != 0)))


def _approximate_scores(
    pool: ProviderPool,
    index: PoolIndex,
    req: _Requests,
    pairs: _Pairs,
    block: IntArray,
    group: IntArray,
    distance: FloatArray,
    rate: tuple[FloatArray, FloatArray] | None,
    w: FloatArray,
) -> FloatArray:
    """The pairs' scores up to rounding (summed in another order), from per-block tables.

    The normalisers of ``matching.features``; provider-only terms, gender and
    urgency come from one (request kind x provider) table, a kind being a
    (preferred gender, urgency level) pair.
    """
    kinds, kind = np.unique(
        np.stack([req.gender[block], req.level[block]]), axis=1, return_inverse=True
    )
    side = (
        w[Feature.LOAD] * index.load_norm[group]
        + w[Feature.RELIABILITY] * index.reliability_norm[group]
        + w[Feature.RATING] * index.rating_norm[group]
        + w[Feature.GENDER] * features.gender(pool.gender[group], kinds[0][:, None])
        + w[Feature.URGENCY] * features.urgency(kinds[1][:, None], index.slack[group])
    )
    score: FloatArray = side.ravel()[kind.reshape(-1)[pairs.rr] * group.size + pairs.cols]
    score += w[Feature.DISTANCE] * features.distance(distance)
    score += w[Feature.WINDOW_COVERAGE] * features.window_coverage(pairs.shared, pairs.slots)
    mean_rate = (
        rate[1][pairs.cols]
        if rate is not None
        else np.full(pairs.rr.size, float(RATE_REFERENCE_PENCE))
    )
    score += w[Feature.RATE] * features.rate(mean_rate, req.ceiling[block][pairs.rr])
    if (req.preferred[block] >= 0).any():
        score += w[Feature.LANGUAGE] * features.language(
            *_language(pool, req, pairs.gr, pairs.rows)
        )
    if req.known.size:
        score += w[Feature.CONTINUITY] * features.continuity(
            np.isin(pairs.gr * len(pool) + pairs.rows, req.known)
        )
    return score


def _scores(
    pool: ProviderPool,
    index: PoolIndex,
    req: _Requests,
    pairs: _Pairs,
    distance: FloatArray,
    rate: tuple[FloatArray, FloatArray] | None,
    weights: Weights,
) -> FloatArray:
    """Each pair's exact score: ``features.PairInputs`` summed as ``weighted_sum``."""
    rows, gr = pairs.rows, pairs.gr
    mean_rate = (
        rate[1][pairs.cols] if rate is not None else np.full(rows.size, float(RATE_REFERENCE_PENCE))
    )
    known = (
        np.isin(gr * len(pool) + rows, req.known).astype(np.float64)
        if req.known.size
        else np.zeros(rows.size)
    )
    matched, preferred = _language(pool, req, gr, rows)
    inputs = PairInputs(
        distance_km=distance,
        shared_slots=pairs.shared,
        window_slots=pairs.slots,
        mean_rate=mean_rate,
        ceiling=req.ceiling[gr],
        languages_matched=matched,
        languages_preferred=preferred,
        provider_gender=pool.gender[rows],
        wanted_gender=req.gender[gr],
        known=known,
        load_norm=index.load_norm[rows],
        reliability_norm=index.reliability_norm[rows],
        slack=index.slack[rows],
        urgency_level=req.level[gr],
        rating_norm=index.rating_norm[rows],
    )
    return weighted_sum(inputs.normalised(), weights.as_array())


def _contenders(
    pool: ProviderPool,
    index: PoolIndex,
    req: _Requests,
    pairs: _Pairs,
    block: IntArray,
    group: IntArray,
    rate: tuple[FloatArray, FloatArray] | None,
    weights: Weights,
    k: int,
) -> BoolArray:
    """Pairs that may be within reach and among their request's best k (see the module doc)."""
    w = weights.as_array()
    approx, error = chord_km(pairs.cosine)
    radius = pool.radius_km[pairs.rows]
    contender: BoolArray = ~(approx - error > radius)
    if not np.isfinite(w).all() or not np.isfinite(error):
        return contender
    score = _approximate_scores(pool, index, req, pairs, block, group, approx, rate, w)
    slack = pruning_slack(w, error)
    surely_near = (approx + error <= radius) & ~np.isnan(score)
    score -= slack
    floor = _kth_largest(pairs.rr, np.where(surely_near, score, -np.inf), block.size, k)
    contender &= ~(score + 2 * slack < floor[pairs.rr])
    return contender


def _block(
    pool: ProviderPool,
    index: PoolIndex,
    req: _Requests,
    block: IntArray,
    group: IntArray,
    rate: tuple[FloatArray, FloatArray] | None,
    weights: Weights,
    k: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Best k (request, row, score) of the block's requests against the group's providers."""
    pairs = _dense_checks(pool, index, req, block, group, rate)
    pairs = pairs.take(_contenders(pool, index, req, pairs, block, group, rate, weights, k))
    distance = haversine_km(
        req.lat[pairs.gr], req.lon[pairs.gr], pool.lat[pairs.rows], pool.lon[pairs.rows]
    )
    near = distance <= pool.radius_km[pairs.rows]
    pairs, distance = pairs.take(near), distance[near]
    score = _scores(pool, index, req, pairs, distance, rate, weights)
    chosen = _best(pairs.rr, score, pairs.rows, block.size, pool, k)
    return pairs.gr[chosen], pairs.rows[chosen], score[chosen]


def batch_candidates(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    k: int,
    weights: Weights | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(request index, pool row, quality) of each request's best k, grouped by request."""
    weights = weights or Weights()
    empty = np.zeros(0, dtype=np.int64)
    if not requests or k <= 0 or len(pool) == 0:
        return empty, empty, np.zeros(0)
    index = pool_index(pool)
    req = _Requests(pool, requests)
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, r in enumerate(requests):
        key = (
            r.services,
            r.regulated_services,
            r.agency,
            r.start_date,
            r.isf_funded,
            r.council if r.isf_funded else None,
            r.required_gender,
            r.required_languages,
        )
        groups.setdefault(key, []).append(i)
    tasks: list[tuple[IntArray, IntArray, tuple[FloatArray, FloatArray] | None]] = []
    for members in groups.values():
        group = _group_rows(pool, index, requests[members[0]])
        if group.size == 0:
            continue
        cols = [
            pool.service_index[s] for s in requests[members[0]].services if s in pool.service_index
        ]
        rate = None
        if cols:
            rates = pool.rates[group[:, None], np.array(cols, dtype=np.int64)]
            rate = (rates.max(axis=1).astype(np.float64), rates.mean(axis=1))
        ids = np.array(members, dtype=np.int64)
        step = max(1, BLOCK_ELEMENTS // group.size)
        tasks.extend((ids[start : start + step], group, rate) for start in range(0, ids.size, step))

    def run(
        task: tuple[IntArray, IntArray, tuple[FloatArray, FloatArray] | None],
    ) -> tuple[IntArray, IntArray, FloatArray]:
        return _block(pool, index, req, task[0], task[1], task[2], weights, k)

    # NumPy releases the GIL inside its large array operations, so blocks overlap
    # on several cores; map keeps the blocks' order, so the result does not depend on it.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as executor:
        parts = list(executor.map(run, tasks))
    if not parts:
        return empty, empty, np.zeros(0)
    request = np.concatenate([p[0] for p in parts])
    order = np.argsort(request, kind="stable")  # each request's pairs stay best first
    quality = np.concatenate([p[2] for p in parts]) / max(weights.total, 1e-12)
    return request[order], np.concatenate([p[1] for p in parts])[order], quality[order]
