"""Candidate pairs for a whole batch of requests, vectorised across requests.

Same result as calling ``scoring.top_candidates`` for each request (the same
checks, features, score summation order and tie-break), but the work that does
not depend on the individual request is done once:

1. Requests are grouped by what the request-independent checks look at
   (services, agency, start date, ISF council, required gender and languages);
   each group's eligible-so-far providers ``S`` come from one whole-pool mask.
2. For a block of the group's requests, a dense (requests x S) pass runs the
   cheap per-request checks at once: the dot-product distance pre-filter, free
   capacity and the rate cap (the group shares its service columns).
3. The surviving pairs get the exact haversine check, availability (overlap
   looked up per distinct availability pattern), then the features and score.
4. The best ``k`` per request: the k-th best score per request from a dense
   partition, every pair tied with it kept, then (score, provider id) order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.availability import overlap_slots
from matching.candidates import _EPS, CareRequestSpec, prepare, static_key
from matching.geo import haversine_km
from matching.index import PoolIndex, pool_index, static_mask, unit_vectors
from matching.pool import BoolArray, FloatArray, IntArray, ProviderPool
from matching.scoring import (
    DISTANCE_SCALE_KM,
    RATE_FLOOR_PENCE,
    RATE_REFERENCE_PENCE,
    URGENCY_LEVEL,
    Weights,
)

BLOCK_ELEMENTS = 1 << 20  # dense (requests x providers) cells per block


class _Requests:
    """The per-request values the batch needs, as arrays over the request list."""

    def __init__(self, pool: ProviderPool, requests: Sequence[CareRequestSpec]) -> None:
        n = len(requests)
        self.lat = np.array([r.lat for r in requests], dtype=np.float64)
        self.lon = np.array([r.lon for r in requests], dtype=np.float64)
        self.unit = unit_vectors(self.lat, self.lon) if n else np.zeros((0, 3))
        self.share = np.array([r.min_window_share for r in requests], dtype=np.float64)
        self.need = (np.array([r.hours_per_week for r in requests], dtype=np.float64)
                     * self.share - _EPS)
        self.cap = np.array([np.inf if r.max_rate_pence is None else r.max_rate_pence
                             for r in requests], dtype=np.float64)
        self.ceiling = np.array([float(r.max_rate_pence or RATE_REFERENCE_PENCE)
                                 for r in requests], dtype=np.float64)
        self.windows = (np.stack([r.windows for r in requests]) if n
                        else np.zeros((0, 6), dtype=np.uint64))
        self.slots = np.bitwise_count(self.windows).sum(axis=1, dtype=np.int64)
        self.level = np.array([URGENCY_LEVEL[r.urgency] for r in requests], dtype=np.float64)
        self.gender = np.array([pool.gender_index.get(r.preferred_gender or "", -2)
                                for r in requests], dtype=np.int64)
        known = [i * len(pool) + pool.row_of[x] for i, r in enumerate(requests)
                 for x in r.known_provider_ids if x in pool.row_of]
        self.known = np.unique(np.array(known, dtype=np.int64))
        sets: dict[frozenset[str], int] = {}
        self.preferred = np.array(
            [sets.setdefault(r.preferred_languages, len(sets)) if r.preferred_languages else -1
             for r in requests], dtype=np.int64)
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


def _language(pool: ProviderPool, req: _Requests, rr: IntArray, rows: IntArray) -> FloatArray:
    """Share of each pair's preferred languages the provider speaks (0 with none)."""
    result = np.zeros(rr.size)
    preferred = req.preferred[rr]
    for code in np.unique(preferred[preferred >= 0]).tolist():
        languages = req.preferred_sets[code]
        on = preferred == code
        cols = [pool.language_index[x] for x in languages if x in pool.language_index]
        matched = (pool.languages[rows[on][:, None], np.array(cols, dtype=np.int64)]
                   .sum(axis=1).astype(np.float64) if cols else np.zeros(int(on.sum())))
        result[on] = matched / len(languages)
    return result


def _best(rr: IntArray, cols: IntArray, score: FloatArray, rows: IntArray, shape: tuple[int, int],
          pool: ProviderPool, k: int) -> IntArray:
    """Positions of each block request's best k pairs, best first, requests ascending.

    ``rr`` are block-local request positions (ascending) and ``cols`` the pairs'
    columns in the block's dense (requests x providers) layout.
    """
    counts = np.bincount(rr, minlength=shape[0])
    keep = np.ones(rr.size, dtype=bool)
    if counts.max(initial=0) > k:
        dense = np.full(shape, np.inf)
        dense[rr, cols] = -score
        kth = -np.partition(dense, k - 1, axis=1)[:, k - 1]  # k-th best score, -inf if fewer
        keep = score >= kth[rr]
    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((pool.id_rank[rows[kept]], -score[kept], rr[kept]))]
    starts = np.searchsorted(rr[order], rr[order], side="left")
    chosen: IntArray = order[np.arange(order.size) - starts < k]
    return chosen


def _block(pool: ProviderPool, index: PoolIndex, req: _Requests, block: IntArray,
           group: IntArray, rate: tuple[FloatArray, FloatArray] | None, weights: Weights,
           k: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Best k (request, row, score) of the block's requests against the group's providers."""
    ok: BoolArray = req.unit[block] @ index.unit_t[:, group] >= index.cos_reach[group]
    ok &= index.free[group] >= req.need[block, None]
    if rate is not None:
        ok &= rate[0] <= req.cap[block, None]
    slots_b = req.slots[block]
    table = None
    if index.patterns.shape[0] <= group.size:  # overlap per distinct pattern, then look up
        table = np.bitwise_count(req.windows[block][:, None, :] & index.patterns[None, :, :])
        table = table.sum(axis=2, dtype=np.int16)
        shared_dense = np.take(table, index.pattern[group], axis=1)
        needed = np.where(slots_b > 0, req.share[block] * slots_b - _EPS, -np.inf)
        ok &= (shared_dense >= needed[:, None]) & ((shared_dense != 0) | (slots_b == 0)[:, None])
    rr, cols = np.nonzero(ok)
    rows, gr = group[cols], block[rr]
    slots = slots_b[rr]
    if table is not None:
        shared = table[rr, index.pattern[rows]].astype(np.int64)
    else:
        shared = overlap_slots(pool.availability[rows], req.windows[gr])
        kept = (slots == 0) | ((shared >= req.share[gr] * slots - _EPS) & (shared != 0))
        rr, cols, rows, gr, slots, shared = (
            rr[kept], cols[kept], rows[kept], gr[kept], slots[kept], shared[kept])
    distance = haversine_km(req.lat[gr], req.lon[gr], pool.lat[rows], pool.lon[rows])
    kept = distance <= pool.radius_km[rows]
    rr, cols, rows, gr, distance = rr[kept], cols[kept], rows[kept], gr[kept], distance[kept]
    slots, shared = slots[kept], shared[kept]

    mean_rate = rate[1][cols] if rate is not None else np.full(rows.size,
                                                               float(RATE_REFERENCE_PENCE))
    ceiling = req.ceiling[gr]
    coverage = np.where(slots > 0, shared / np.maximum(slots, 1), 1.0)
    known = (np.isin(gr * len(pool) + rows, req.known).astype(np.float64) if req.known.size
             else np.zeros(rows.size))
    normalised = (
        1.0 - np.minimum(distance, DISTANCE_SCALE_KM) / DISTANCE_SCALE_KM,
        np.clip(coverage, 0.0, 1.0),
        np.clip((ceiling - mean_rate) / np.maximum(ceiling - RATE_FLOOR_PENCE, 1.0), 0.0, 1.0),
        _language(pool, req, gr, rows),
        (pool.gender[rows] == req.gender[gr]).astype(np.float64),
        known,
        index.load_norm[rows],
        index.reliability_norm[rows],
        req.level[gr] * index.slack[rows],
    )
    score = np.zeros(rows.size)
    for weight, feature in zip(weights.as_array().tolist(), normalised, strict=True):
        score = score + weight * feature
    chosen = _best(rr, cols, score, rows, (block.size, group.size), pool, k)
    return gr[chosen], rows[chosen], score[chosen]


def batch_candidates(
    pool: ProviderPool, requests: Sequence[CareRequestSpec], k: int, weights: Weights | None = None,
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
        key = (r.services, r.regulated_services, r.agency, r.start_date, r.isf_funded,
               r.council if r.isf_funded else None, r.required_gender, r.required_languages)
        groups.setdefault(key, []).append(i)
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    for members in groups.values():
        group = _group_rows(pool, index, requests[members[0]])
        if group.size == 0:
            continue
        cols = [pool.service_index[s] for s in requests[members[0]].services
                if s in pool.service_index]
        rate = None
        if cols:
            rates = pool.rates[group[:, None], np.array(cols, dtype=np.int64)]
            rate = (rates.max(axis=1).astype(np.float64), rates.mean(axis=1))
        ids = np.array(members, dtype=np.int64)
        step = max(1, BLOCK_ELEMENTS // group.size)
        for start in range(0, ids.size, step):
            parts.append(_block(pool, index, req, ids[start:start + step], group, rate,
                                weights, k))
    if not parts:
        return empty, empty, np.zeros(0)
    request = np.concatenate([p[0] for p in parts])
    order = np.argsort(request, kind="stable")  # each request's pairs stay best first
    quality = np.concatenate([p[2] for p in parts]) / max(weights.total, 1e-12)
    return request[order], np.concatenate([p[1] for p in parts])[order], quality[order]
