"""Weighted features over eligible providers, with a per-feature explanation.

Every feature is normalised to [0, 1] (1 = better for the seeker or the
programme); the score is the weighted sum, in the order of ``FEATURES``. A
suggestion carries each feature's raw value, normalised value, weight and
contribution, so a manager can see why a provider ranks where it does.

``top_k`` computes the exact features only for providers that can still make
the top k. Every provider passing the checks other than the exact distance
(``candidates.rows_in_reach``) gets an approximate score: the exact features
except the distance, which comes from the dot product already computed for the
pre-filter (``index.chord_km``, with a proven error bound), so the approximate
score is within ``slack`` of the exact one. The floor is the k-th best
(approximate score - slack) among providers surely within reach (approximate
distance + error <= radius), which are eligible; a provider whose approximate
score + slack is below the floor scores strictly below k eligible providers
and cannot be chosen, ties included. The rest get the exact haversine check,
features and score (``feature_matrix``, ``weighted_scores``), so the result is
the same as scoring every eligible provider, to the bit. With few candidates
(``PRUNE_MIN_ROWS``) they are all scored exactly: the bound would cost more.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from matching import features
from matching.availability import overlap_slots, slot_count
from matching.candidates import CareRequestSpec, distances_km, rows_in_reach
from matching.features import (
    FEATURES,
    RATE_REFERENCE_PENCE,
    URGENCY_LEVEL,
    Feature,
    PairInputs,
    pruning_slack,
    weighted_sum,
)
from matching.index import chord_km, pool_index
from matching.pool import BoolArray, FloatArray, IntArray, ProviderPool

PRUNE_MIN_ROWS = 300  # below this many candidates scoring them all is as fast (measured)


@dataclass(frozen=True)
class Weights:
    """Feature weights; the defaults sum to 1 so a score reads as a share."""

    distance: float = 0.25
    window_coverage: float = 0.20
    rate: float = 0.10
    language: float = 0.10
    gender: float = 0.05
    continuity: float = 0.15
    load: float = 0.05  # spreads work across micro-providers
    # Nothing in the agency records a reliability yet (always neutral): its weight went to
    # the rating, which has a source (seekers' feedback); an agency may set both.
    reliability: float = 0.0
    urgency: float = 0.05  # for urgent requests, favour providers with slack
    rating: float = 0.05  # seekers' ratings, shrunk toward the agency's mean

    def as_array(self) -> FloatArray:
        """Weights in ``FEATURES`` order."""
        return np.array([getattr(self, name) for name in FEATURES], dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of the weights (the highest possible score)."""
        return float(sum(getattr(self, f.name) for f in fields(self)))


if tuple(f.name for f in fields(Weights)) != FEATURES:  # one name, one column, one order
    raise ImportError("Weights' fields must be matching.features.FEATURES, in order")


@dataclass(frozen=True)
class FeatureExplanation:
    """One feature's part in a score."""

    raw: float
    normalised: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class Suggestion:
    """A ranked provider for a request, with its score breakdown."""

    provider_id: str
    rank: int
    score: float
    explanation: dict[str, FeatureExplanation]

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form (for storing suggestions)."""
        return asdict(self)


def feature_matrix(
    pool: ProviderPool,
    request: CareRequestSpec,
    rows: IntArray,
    distance: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """(raw, normalised) feature values, each of shape (len(rows), len(FEATURES)).

    ``distance`` may be passed when already known (km to each row).
    """
    n = rows.size
    index = pool_index(pool)
    if distance is None:
        distance = distances_km(pool, request, rows)
    window_slots = slot_count(request.windows)
    shared = (
        overlap_slots(pool.availability[rows], request.windows) if window_slots else np.zeros(n)
    )
    cols = [pool.service_index[s] for s in request.services if s in pool.service_index]
    rate = (
        pool.rates[rows[:, None], np.array(cols, dtype=np.int64)].mean(axis=1)
        if cols
        else np.full(n, float(RATE_REFERENCE_PENCE))
    )
    preferred = [
        pool.language_index[x] for x in request.preferred_languages if x in pool.language_index
    ]
    spoken = pool.languages[rows[:, None], np.array(preferred, dtype=np.int64)]
    matched = spoken.sum(axis=1).astype(np.float64) if preferred else np.zeros(n)
    known_rows = [pool.row_of[x] for x in request.known_provider_ids if x in pool.row_of]
    known = np.isin(rows, np.array(known_rows, dtype=np.int64)).astype(np.float64)
    inputs = PairInputs(
        distance_km=distance,
        shared_slots=shared,
        window_slots=window_slots,
        mean_rate=rate,
        ceiling=features.rate_ceiling(request.max_rate_pence),
        languages_matched=matched,
        languages_preferred=len(request.preferred_languages),
        provider_gender=pool.gender[rows],
        wanted_gender=pool.gender_index.get(request.preferred_gender or "", -2),
        known=known,
        load_norm=index.load_norm[rows],
        reliability_norm=index.reliability_norm[rows],
        slack=index.slack[rows],
        urgency_level=URGENCY_LEVEL[request.urgency],
        rating_norm=index.rating_norm[rows],
    )
    normalised = inputs.normalised()
    coverage = shared / window_slots if window_slots else np.ones(n)
    raw = np.column_stack(
        [
            distance,
            coverage,
            rate,
            matched,
            normalised[Feature.GENDER],
            known,
            pool.load_hours[rows],
            pool.reliability[rows],
            index.free[rows],
            pool.rating[rows],
        ]
    )
    return raw.reshape(n, len(FEATURES)), np.column_stack(normalised).reshape(n, len(FEATURES))


def weighted_scores(normalised: FloatArray, weights: Weights) -> FloatArray:
    """Weighted sum of normalised features, added feature by feature in order."""
    return weighted_sum([normalised[:, j] for j in range(len(FEATURES))], weights.as_array())


def rank_rows(pool: ProviderPool, rows: IntArray, score: FloatArray, k: int) -> IntArray:
    """Positions (into rows) of the best k by score, ties broken by provider id.

    ``argpartition`` finds the k-th best score in linear time; every row tied
    with it is kept, so the id tie-break is exact, then only those are sorted.
    """
    if k <= 0 or rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    if rows.size > k:
        kth = score[np.argpartition(-score, k - 1)[k - 1]]
        keep = np.flatnonzero(score >= kth)
    else:
        keep = np.arange(rows.size)
    order = np.lexsort((pool.id_rank[rows[keep]], -score[keep]))
    ranked: IntArray = keep[order[:k]]
    return ranked


def _approximate_scores(
    pool: ProviderPool,
    request: CareRequestSpec,
    rows: IntArray,
    distance: FloatArray,
    w: FloatArray,
) -> FloatArray:
    """The rows' scores for approximate distances, other features as ``feature_matrix``.

    The same normalisers (``matching.features``), summed in another order and
    with per-pattern coverage, so equal to the exact score (at those
    distances) only up to rounding.
    """
    index = pool_index(pool)
    # np.take: gathers here are much faster than fancy indexing (measured).
    score: FloatArray = w[Feature.LOAD] * np.take(index.load_norm, rows)
    score += w[Feature.RELIABILITY] * np.take(index.reliability_norm, rows)
    score += w[Feature.RATING] * np.take(index.rating_norm, rows)
    score += w[Feature.URGENCY] * features.urgency(
        URGENCY_LEVEL[request.urgency], np.take(index.slack, rows)
    )
    score += w[Feature.DISTANCE] * features.distance(distance)
    window_slots = slot_count(request.windows)
    if window_slots:
        coverage = features.window_coverage(
            overlap_slots(index.patterns, request.windows), window_slots
        )
        score += w[Feature.WINDOW_COVERAGE] * np.take(coverage, np.take(index.pattern, rows))
    else:
        score += w[Feature.WINDOW_COVERAGE]
    cols = [pool.service_index[s] for s in request.services if s in pool.service_index]
    ceiling = features.rate_ceiling(request.max_rate_pence)
    if cols:
        total = np.take(index.rates_t[cols[0]], rows).astype(np.float64)
        for col in cols[1:]:
            total += np.take(index.rates_t[col], rows)
        score += w[Feature.RATE] * features.rate(total / len(cols), ceiling)
    else:
        score += w[Feature.RATE] * features.rate(np.array([RATE_REFERENCE_PENCE], float), ceiling)
    preferred = [
        pool.language_index[x] for x in request.preferred_languages if x in pool.language_index
    ]
    if preferred:
        matched = index.languages_t[preferred[0], rows].astype(np.float64)
        for col in preferred[1:]:
            matched += index.languages_t[col, rows]
        score += w[Feature.LANGUAGE] * features.language(matched, len(request.preferred_languages))
    wanted = pool.gender_index.get(request.preferred_gender or "", -2)
    if wanted >= 0:
        score += w[Feature.GENDER] * features.gender(np.take(pool.gender, rows), wanted)
    known_rows = [pool.row_of[x] for x in request.known_provider_ids if x in pool.row_of]
    if known_rows:
        score += w[Feature.CONTINUITY] * features.continuity(
            np.isin(rows, np.array(known_rows, dtype=np.int64))
        )
    return score


def _contenders(
    pool: ProviderPool,
    request: CareRequestSpec,
    rows: IntArray,
    cosine: FloatArray,
    w: FloatArray,
    k: int,
) -> BoolArray:
    """Rows that may be within reach and among the best k (see the module doc)."""
    approx, error = chord_km(cosine)
    radius = np.take(pool.radius_km, rows)
    contender: BoolArray = ~(approx - error > radius)
    if rows.size <= max(k, PRUNE_MIN_ROWS) or not np.isfinite(w).all() or not np.isfinite(error):
        return contender
    score = _approximate_scores(pool, request, rows, approx, w)
    slack = pruning_slack(w, error)
    lower = np.where((approx + error <= radius) & ~np.isnan(score), score - slack, -np.inf)
    floor = np.partition(lower, rows.size - k)[rows.size - k]
    contender &= ~(score + slack < floor)
    return contender


def _scored_contenders(
    pool: ProviderPool, request: CareRequestSpec, k: int, weights: Weights
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """(rows, raw, normalised, score) of the eligible providers that may make the top k.

    Every eligible provider among the best k (and every one tied with the k-th
    best) is there; the others mostly are not (see the module doc).
    """
    rows, cosine = rows_in_reach(pool, request)
    if k > 0:
        rows = rows[_contenders(pool, request, rows, cosine, weights.as_array(), k)]
    distance = distances_km(pool, request, rows)
    kept = distance <= pool.radius_km[rows]
    rows, distance = rows[kept], distance[kept]
    raw, normalised = feature_matrix(pool, request, rows, distance)
    return rows, raw, normalised, weighted_scores(normalised, weights)


def top_k(
    pool: ProviderPool, request: CareRequestSpec, k: int = 20, weights: Weights | None = None
) -> list[Suggestion]:
    """The k best eligible providers for a request, best first, each explained."""
    weights = weights or Weights()
    rows, raw, normalised, score = _scored_contenders(pool, request, k, weights)
    w = weights.as_array()
    best = rank_rows(pool, rows, score, k)
    # Python floats for the few rows shown (tolist is exact, and cheaper than float()).
    raw_best, norm_best = raw[best].tolist(), normalised[best].tolist()
    contribution = (w * normalised[best]).tolist()
    weight_list, scores, chosen = w.tolist(), score[best].tolist(), rows[best].tolist()
    suggestions = []
    for i in range(best.size):
        explanation = {
            name: FeatureExplanation(
                raw_best[i][j], norm_best[i][j], weight_list[j], contribution[i][j]
            )
            for j, name in enumerate(FEATURES)
        }
        suggestions.append(Suggestion(pool.ids[chosen[i]], i + 1, scores[i], explanation))
    return suggestions


def top_candidates(
    pool: ProviderPool, request: CareRequestSpec, k: int, weights: Weights | None = None
) -> tuple[IntArray, FloatArray]:
    """(rows, quality in [0, 1]) of the k best eligible providers, for batch assignment."""
    weights = weights or Weights()
    rows, _, _, score = _scored_contenders(pool, request, k, weights)
    best = rank_rows(pool, rows, score, k)
    quality: FloatArray = score[best] / max(weights.total, 1e-12)
    chosen: IntArray = rows[best]
    return chosen, quality
