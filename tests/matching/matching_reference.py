"""Plain-Python reference matcher: one obvious loop over ProviderRecords.

The property tests check the vectorised engine against this. It shares no code
with the engine except the constraint codes, the feature names and constants.
"""

from __future__ import annotations

import math

from matching.candidates import CONSTRAINT_CODES, CareRequestSpec
from matching.features import (
    DISTANCE_SCALE_KM,
    FEATURES,
    NEUTRAL_RATING,
    NEUTRAL_RELIABILITY,
    RATE_FLOOR_PENCE,
    RATE_REFERENCE_PENCE,
    RATING_HIGH,
    RATING_LOW,
    URGENCY_LEVEL,
)
from matching.pool import ProviderRecord
from matching.scoring import Weights

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


def slots(mask: object) -> set[int]:
    words = [int(w) for w in mask]  # type: ignore[attr-defined]
    return {w * 64 + b for w, word in enumerate(words) for b in range(64) if word >> b & 1}


def failures(p: ProviderRecord, r: CareRequestSpec, regulated: frozenset[str]) -> list[str]:
    failed = []
    if any(s not in p.rates_pence for s in r.services):
        failed.append("service_not_offered")
    if any(s in regulated | r.regulated_services for s in r.services) and not p.cqc_registered:
        failed.append("regulated_without_cqc")
    if r.agency not in p.approved_agencies:
        failed.append("not_approved_by_agency")
    if p.suspended:
        failed.append("suspended")
    if p.compliance_valid_until is None or p.compliance_valid_until < r.start_date:
        failed.append("compliance_expired")
    if r.isf_funded and (r.council is None or r.council not in p.isf_approved_councils):
        failed.append("not_isf_approved")
    if distance_km(r.lat, r.lon, p.lat, p.lon) > p.travel_radius_km:
        failed.append("too_far")
    wanted = slots(r.windows)
    if wanted:
        shared = len(wanted & slots(p.availability))
        if shared == 0 or shared < r.min_window_share * len(wanted) - 1e-9:
            failed.append("availability")
    free = p.capacity_hours_per_week - p.committed_hours
    if free <= 0 or free < r.hours_per_week * r.min_window_share - 1e-9:
        failed.append("no_capacity")
    cap = r.max_rate_pence
    if cap is not None and any(p.rates_pence.get(s, -1) > cap for s in r.services):
        failed.append("rate_above_cap")
    if r.required_gender is not None and p.gender != r.required_gender:
        failed.append("required_gender")
    if any(x not in p.languages for x in r.required_languages):
        failed.append("required_language")
    assert all(code in CONSTRAINT_CODES for code in failed)
    return failed


def features(p: ProviderRecord, r: CareRequestSpec) -> list[float]:
    d = distance_km(r.lat, r.lon, p.lat, p.lon)
    wanted = slots(r.windows)
    coverage = len(wanted & slots(p.availability)) / len(wanted) if wanted else 1.0
    offered = [p.rates_pence[s] for s in r.services if s in p.rates_pence]
    rate = sum(offered) / len(offered) if offered else float(RATE_REFERENCE_PENCE)
    ceiling = float(r.max_rate_pence or RATE_REFERENCE_PENCE)
    rate_norm = min(max((ceiling - rate) / max(ceiling - RATE_FLOOR_PENCE, 1.0), 0.0), 1.0)
    matched = sum(1 for x in r.preferred_languages if x in p.languages)
    language = matched / len(r.preferred_languages) if r.preferred_languages else 0.0
    gender = 1.0 if r.preferred_gender is not None and p.gender == r.preferred_gender else 0.0
    continuity = 1.0 if p.provider_id in r.known_provider_ids else 0.0
    cap = p.capacity_hours_per_week
    load_hours = p.committed_hours if p.current_load_hours is None else p.current_load_hours
    load = 1.0 - min(max(load_hours / cap, 0.0), 1.0) if cap > 0 else 0.0
    reliability = NEUTRAL_RELIABILITY if p.reliability is None else p.reliability
    rating = (
        NEUTRAL_RATING
        if p.rating is None
        else min(max((p.rating - RATING_LOW) / (RATING_HIGH - RATING_LOW), 0.0), 1.0)
    )
    free = cap - p.committed_hours
    slack = min(max(free / cap, 0.0), 1.0) if cap > 0 else 0.0
    return [
        1.0 - min(d, DISTANCE_SCALE_KM) / DISTANCE_SCALE_KM,
        min(max(coverage, 0.0), 1.0),
        rate_norm,
        language,
        gender,
        continuity,
        load,
        reliability,
        URGENCY_LEVEL[r.urgency] * slack,
        rating,
    ]


def score(p: ProviderRecord, r: CareRequestSpec, weights: Weights) -> float:
    total = 0.0
    for name, value in zip(FEATURES, features(p, r), strict=True):
        total = total + getattr(weights, name) * value
    return total


def ranking(
    providers: list[ProviderRecord],
    r: CareRequestSpec,
    regulated: frozenset[str],
    weights: Weights,
    k: int,
) -> list[tuple[str, float]]:
    scored = [
        (p.provider_id, score(p, r, weights)) for p in providers if not failures(p, r, regulated)
    ]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:k]
