"""The scoring formula, written once: named features, their normalisers and the weighted sum.

Every path that scores a (request, provider) pair derives from this module:
the exact score of one request (``scoring.feature_matrix``), the exact score
of a batch's pairs (``batch._scores``), the approximate scores that prune
providers before the exact distance is known (``scoring._approximate_scores``,
``batch._approximate_scores``) and the provider-only parts cached per pool
(``index._build``). Each feature is normalised to [0, 1] (1 = better for the
seeker or the programme); the score is the weighted sum, added feature by
feature in ``Feature`` order (``weighted_sum``), so the exact paths agree to
the bit.

To add a feature: see "Adding a feature" in docs/matching.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.pool import FloatArray

Codes = npt.NDArray[Any]  # integer codes or booleans, compared or cast by the normalisers

DISTANCE_SCALE_KM = 10.0  # at or beyond this distance the distance feature is 0
RATE_FLOOR_PENCE = 1000  # a rate this low scores 1 on the rate feature
RATE_REFERENCE_PENCE = 3000  # the ceiling used when the request has no rate cap
URGENCY_LEVEL = {"routine": 0.0, "soon": 0.5, "hospital_discharge": 1.0}
NEUTRAL_RELIABILITY = 0.5  # no history: neither rewarded nor punished
RATING_LOW, RATING_HIGH = 1.0, 5.0  # the seekers' 1-5 stars
RATING_PRIOR_WEIGHT = 5.0  # C: the agency's mean counts as this many ratings (shrinkage)
NEUTRAL_RATING = 0.5  # no ratings at the agency at all: neither rewarded nor punished
SCORE_ROUNDING = 1e-9  # times the weights' size: far above the rounding of a 9-term sum


class Feature(IntEnum):
    """Column of each feature in feature matrices and weight arrays (``Weights`` order)."""

    DISTANCE = 0
    WINDOW_COVERAGE = 1
    RATE = 2
    LANGUAGE = 3
    GENDER = 4
    CONTINUITY = 5
    LOAD = 6
    RELIABILITY = 7
    URGENCY = 8
    RATING = 9


FEATURES: tuple[str, ...] = tuple(f.name.lower() for f in Feature)


def distance(km: FloatArray) -> FloatArray:
    """1 next door, falling linearly to 0 at ``DISTANCE_SCALE_KM``."""
    norm: FloatArray = 1.0 - np.minimum(km, DISTANCE_SCALE_KM) / DISTANCE_SCALE_KM
    return norm


def distance_slope(weight: float) -> float:
    """Largest change of the weighted distance term per km (the pruning slack uses it)."""
    return abs(weight) / DISTANCE_SCALE_KM


def window_coverage(shared: Codes, slots: Codes | int) -> FloatArray:
    """Share of the wanted slots the provider is available in (1 with no windows)."""
    coverage = np.where(np.asarray(slots) > 0, shared / np.maximum(slots, 1), 1.0)
    norm: FloatArray = np.clip(coverage, 0.0, 1.0)
    return norm


def rate_ceiling(max_rate_pence: int | None) -> float:
    """The rate that scores 0: the request's cap, or the reference rate without one."""
    return float(max_rate_pence or RATE_REFERENCE_PENCE)


def rate(mean_rate_pence: FloatArray, ceiling: FloatArray | float) -> FloatArray:
    """1 at ``RATE_FLOOR_PENCE`` or below, 0 at the ceiling or above, linear between."""
    span = np.maximum(np.asarray(ceiling) - RATE_FLOOR_PENCE, 1.0)
    norm: FloatArray = np.clip((ceiling - mean_rate_pence) / span, 0.0, 1.0)
    return norm


def language(matched: FloatArray, preferred: FloatArray | int) -> FloatArray:
    """Share of the preferred languages spoken (0 with no preference)."""
    share: FloatArray = np.where(np.asarray(preferred) > 0, matched / np.maximum(preferred, 1), 0.0)
    return share


def gender(provider_gender: Codes, wanted: Codes | int) -> FloatArray:
    """1 where the provider's gender is the preferred one (codes; -2: no preference)."""
    match: FloatArray = (provider_gender == wanted).astype(np.float64)
    return match


def continuity(known: Codes) -> FloatArray:
    """1 where the seeker already knows the provider."""
    known_float: FloatArray = np.asarray(known, dtype=np.float64)
    return known_float


def load(load_hours: FloatArray, capacity: FloatArray) -> FloatArray:
    """1 - load / capacity: favours providers with less work (spreads it)."""
    safe = np.where(capacity > 0, capacity, 1.0)
    norm: FloatArray = np.where(capacity > 0, 1.0 - np.clip(load_hours / safe, 0.0, 1.0), 0.0)
    return norm


def reliability(value: FloatArray) -> FloatArray:
    """The provider's record (0..1), neutral without history (NaN)."""
    norm: FloatArray = np.where(np.isnan(value), NEUTRAL_RELIABILITY, value)
    return norm


def shrunk_rating(
    total: float, count: int, agency_mean: float, prior_weight: float = RATING_PRIOR_WEIGHT
) -> float:
    """A provider's Bayesian average rating: ``(C * m + sum) / (C + n)``.

    ``m`` is the agency's mean rating and ``C`` how many ratings it counts as, so one bad
    review of a new provider moves them a little, and many ratings move them to their own
    mean. With no ratings of their own a provider has the agency's mean.
    """
    return (prior_weight * agency_mean + total) / (prior_weight + count)


def rating(value: FloatArray) -> FloatArray:
    """The shrunk rating (1..5) as 0..1; neutral without any ratings at the agency (NaN)."""
    norm: FloatArray = np.where(
        np.isnan(value),
        NEUTRAL_RATING,
        np.clip((value - RATING_LOW) / (RATING_HIGH - RATING_LOW), 0.0, 1.0),
    )
    return norm


def slack(free: FloatArray, capacity: FloatArray) -> FloatArray:
    """Free / capacity, clipped to [0, 1]: how much room the provider has."""
    safe = np.where(capacity > 0, capacity, 1.0)
    share: FloatArray = np.where(capacity > 0, np.clip(free / safe, 0.0, 1.0), 0.0)
    return share


def urgency(level: FloatArray | float, provider_slack: FloatArray) -> FloatArray:
    """For urgent requests, favour providers with room (level 0 / 0.5 / 1 x slack)."""
    norm: FloatArray = level * provider_slack
    return norm


@dataclass(frozen=True)
class PairInputs:
    """What the exact features of n (request, provider) pairs are computed from.

    Request values may be scalars (one request) or per-pair arrays (a batch);
    provider values are per pair, ``load_norm``, ``slack`` and ``rating_norm`` as cached by
    ``index.pool_index``.
    """

    distance_km: FloatArray
    shared_slots: Codes  # wanted slots the provider is available in
    window_slots: Codes | int  # slots wanted (0: any time)
    mean_rate: FloatArray  # mean rate of the requested services (pence)
    ceiling: FloatArray | float  # ``rate_ceiling`` of the request
    languages_matched: FloatArray  # preferred languages spoken
    languages_preferred: FloatArray | int
    provider_gender: Codes
    wanted_gender: Codes | int
    known: Codes  # 1/0: the seeker knows the provider
    load_norm: FloatArray
    reliability_norm: FloatArray
    slack: FloatArray
    urgency_level: FloatArray | float
    rating_norm: FloatArray

    def normalised(self) -> list[FloatArray]:
        """The normalised features, one array per feature in ``Feature`` order."""
        return [
            distance(self.distance_km),
            window_coverage(self.shared_slots, self.window_slots),
            rate(self.mean_rate, self.ceiling),
            language(self.languages_matched, self.languages_preferred),
            gender(self.provider_gender, self.wanted_gender),
            continuity(self.known),
            self.load_norm,
            self.reliability_norm,
            urgency(self.urgency_level, self.slack),
            self.rating_norm,
        ]


def weighted_sum(columns: Sequence[FloatArray], weights: FloatArray) -> FloatArray:
    """Sum of weight x normalised feature, added in ``Feature`` order (the exact score)."""
    score: FloatArray = np.zeros(np.shape(columns[0]))
    for weight, column in zip(weights.tolist(), columns, strict=True):
        score = score + weight * column
    return score


def pruning_slack(weights: FloatArray, distance_error_km: float) -> float:
    """How far an approximate score (distance off by at most the error) can be from the exact.

    The distance term moves by at most ``distance_slope`` per km; every other
    term is exact up to rounding, bounded by ``SCORE_ROUNDING`` times the weights' size.
    """
    return distance_slope(float(weights[Feature.DISTANCE])) * distance_error_km + (
        SCORE_ROUNDING * (1.0 + float(np.abs(weights).sum()))
    )
