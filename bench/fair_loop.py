"""A fair plain-Python top-k: the obvious code a competent engineer writes without NumPy.

Unlike the test reference (``tests/matching/matching_reference.py``, written to be
obviously right, not fast), this prepares each provider once per pool (radians,
masks as one Python int, sets, the provider-only features) and, per request,
rejects on the cheapest checks first, computes the distance only for
providers that pass them, and keeps the best k with ``heapq``. Same rules,
features and tie-break as ``matching.top_k`` (the benchmark checks the
rankings agree).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matching.candidates import CareRequestSpec
from matching.features import (
    DISTANCE_SCALE_KM,
    NEUTRAL_RATING,
    NEUTRAL_RELIABILITY,
    RATE_FLOOR_PENCE,
    RATE_REFERENCE_PENCE,
    RATING_HIGH,
    RATING_LOW,
    URGENCY_LEVEL,
)
from matching.geo import EARTH_RADIUS_KM
from matching.pool import ProviderRecord
from matching.scoring import Weights


def _mask_int(mask: object) -> int:
    return sum(int(word) << (64 * i) for i, word in enumerate(mask))  # type: ignore[call-overload]


@dataclass(frozen=True)
class _Provider:
    provider_id: str
    lat: float  # radians
    lon: float
    cos_lat: float
    radius_km: float
    rates: dict[str, int]
    cqc: bool
    agencies: frozenset[str]
    compliance_day: int
    isf: frozenset[str]
    availability: int
    free: float
    gender: str | None
    languages: frozenset[str]
    load_norm: float
    reliability_norm: float
    slack: float
    rating_norm: float


class FairLoop:
    """Providers prepared once; ``top_k`` per request."""

    def __init__(self, records: Sequence[ProviderRecord], regulated: frozenset[str]) -> None:
        self.regulated = regulated
        self.providers = []
        for p in records:
            if p.suspended or p.compliance_valid_until is None:
                continue  # never eligible
            cap = p.capacity_hours_per_week
            load = p.committed_hours if p.current_load_hours is None else p.current_load_hours
            free = cap - p.committed_hours
            if free <= 0:
                continue
            lat = math.radians(p.lat)
            self.providers.append(
                _Provider(
                    p.provider_id,
                    lat,
                    math.radians(p.lon),
                    math.cos(lat),
                    p.travel_radius_km,
                    dict(p.rates_pence),
                    p.cqc_registered,
                    p.approved_agencies,
                    p.compliance_valid_until.toordinal(),
                    p.isf_approved_councils,
                    _mask_int(p.availability),
                    free,
                    p.gender,
                    p.languages,
                    1.0 - min(max(load / cap, 0.0), 1.0) if cap > 0 else 0.0,
                    NEUTRAL_RELIABILITY if p.reliability is None else p.reliability,
                    min(max(free / cap, 0.0), 1.0) if cap > 0 else 0.0,
                    NEUTRAL_RATING
                    if p.rating is None
                    else min(max((p.rating - RATING_LOW) / (RATING_HIGH - RATING_LOW), 0.0), 1.0),
                )
            )

    def top_k(self, r: CareRequestSpec, k: int, weights: Weights) -> list[tuple[str, float]]:
        """(provider id, score) of the k best eligible providers, best first."""
        w = weights
        services = r.services
        needs_cqc = any(s in self.regulated or s in r.regulated_services for s in services)
        start = r.start_date.toordinal()
        wanted = _mask_int(r.windows)
        n_wanted = wanted.bit_count()
        need_slots = r.min_window_share * n_wanted - 1e-9
        need_hours = r.hours_per_week * r.min_window_share - 1e-9
        cap = r.max_rate_pence
        ceiling = float(r.max_rate_pence or RATE_REFERENCE_PENCE)
        span = max(ceiling - RATE_FLOOR_PENCE, 1.0)
        lat, lon = math.radians(r.lat), math.radians(r.lon)
        cos_lat = math.cos(lat)
        level = URGENCY_LEVEL[r.urgency]
        preferred = r.preferred_languages
        best: list[tuple[float, _Reverse]] = []  # a min-heap of the k best so far
        for p in self.providers:
            if r.agency not in p.agencies or p.compliance_day < start or p.free < need_hours:
                continue
            if needs_cqc and not p.cqc:
                continue
            if r.isf_funded and (r.council is None or r.council not in p.isf):
                continue
            rates = p.rates
            if any(s not in rates for s in services):
                continue
            if cap is not None and any(rates[s] > cap for s in services):
                continue
            if r.required_gender is not None and p.gender != r.required_gender:
                continue
            if r.required_languages and not r.required_languages <= p.languages:
                continue
            shared = (wanted & p.availability).bit_count()
            if n_wanted and (shared == 0 or shared < need_slots):
                continue
            a = (
                math.sin((p.lat - lat) / 2) ** 2
                + cos_lat * p.cos_lat * math.sin((p.lon - lon) / 2) ** 2
            )
            d = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))
            if d > p.radius_km:
                continue
            rate = (
                sum(rates[s] for s in services) / len(services)
                if services
                else float(RATE_REFERENCE_PENCE)
            )
            score = 0.0
            score = score + w.distance * (1.0 - min(d, DISTANCE_SCALE_KM) / DISTANCE_SCALE_KM)
            score = score + w.window_coverage * (min(shared / n_wanted, 1.0) if n_wanted else 1.0)
            score = score + w.rate * min(max((ceiling - rate) / span, 0.0), 1.0)
            if preferred:
                score = score + w.language * (len(preferred & p.languages) / len(preferred))
            else:
                score = score + w.language * 0.0
            score = score + w.gender * (
                1.0 if r.preferred_gender is not None and p.gender == r.preferred_gender else 0.0
            )
            score = score + w.continuity * (1.0 if p.provider_id in r.known_provider_ids else 0.0)
            score = score + w.load * p.load_norm
            score = score + w.reliability * p.reliability_norm
            score = score + w.urgency * (level * p.slack)
            score = score + w.rating * p.rating_norm
            entry = (score, _Reverse(p.provider_id))
            if len(best) < k:
                heapq.heappush(best, entry)
            elif best[0] < entry:
                heapq.heapreplace(best, entry)
        ranked = sorted((-s, rev.value) for s, rev in best)
        return [(pid, -neg) for neg, pid in ranked]


class _Reverse:
    """Orders ids backwards, so the heap's smallest is the worst (lowest score, highest id)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return self.value > other.value

    def __gt__(self, other: _Reverse) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)
