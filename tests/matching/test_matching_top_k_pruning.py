"""top_k prunes providers that cannot reach the top k: same result as scoring them all."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import scoring
from matching.availability import mask_from_slots
from matching.candidates import CareRequestSpec, eligible_with_distance
from matching.geo import haversine_km
from matching.pool import ProviderPool, ProviderRecord
from matching.scoring import (
    Weights,
    feature_matrix,
    rank_rows,
    top_candidates,
    top_k,
    weighted_scores,
)

START = date(2025, 6, 2)
REQUEST_AT = (51.4600, -2.5900)
PLACES = [
    REQUEST_AT,
    (51.4601, -2.5900),
    (51.4650, -2.5950),
    (51.4800, -2.6200),
    (51.4300, -2.5500),
    (51.5200, -2.7000),
]
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def templates(draw: st.DrawFn) -> ProviderRecord:
    lat, lon = draw(st.sampled_from(PLACES))
    distance = float(haversine_km(REQUEST_AT[0], REQUEST_AT[1], lat, lon))
    # Some radii are the distance to the request, or half a metre more or less: the
    # edge of the reach check, well inside the error bound of the chord distance.
    radius = draw(st.sampled_from([distance, distance - 5e-4, distance + 5e-4, 1.0, 3.0, 12.0]))
    offered = ["companionship", *draw(st.sampled_from([[], ["shopping"]]))]
    return ProviderRecord(
        provider_id="template",
        lat=lat,
        lon=lon,
        travel_radius_km=radius,
        rates_pence={s: draw(st.sampled_from([1500, 2000, 2000, 2800])) for s in offered},
        availability=draw(
            st.sampled_from([mask_from_slots(range(336)), mask_from_slots(range(20, 30))])
        ),
        approved_agencies=frozenset({"sdt"}),
        compliance_valid_until=START + timedelta(days=draw(st.sampled_from([-1, 10, 30, 30]))),
        capacity_hours_per_week=draw(st.sampled_from([0.0, 10.0, 20.0, 20.0])),
        committed_hours=draw(st.sampled_from([0.0, 5.0])),
        gender=draw(st.sampled_from([None, "female", "male"])),
        languages=draw(st.sampled_from([frozenset(), frozenset({"somali"})])),
        current_load_hours=draw(st.one_of(st.none(), st.sampled_from([0.0, 4.0, 30.0]))),
        reliability=draw(st.one_of(st.none(), st.sampled_from([0.3, 0.9, 1.0]))),
        rating=draw(st.one_of(st.none(), st.sampled_from([1.0, 3.7, 5.0]))),
    )


@st.composite
def pools(draw: st.DrawFn) -> list[ProviderRecord]:
    """Copies of a few templates under different ids: many exact ties in score."""
    records: list[ProviderRecord] = []
    for template in draw(st.lists(templates(), min_size=1, max_size=8)):
        for _ in range(draw(st.integers(1, 8))):
            records.append(replace(template, provider_id=f"prv{len(records) * 37 % 101:03d}"))
    return records


@st.composite
def requests(draw: st.DrawFn) -> CareRequestSpec:
    return CareRequestSpec(
        request_id="req",
        services=("companionship",),
        hours_per_week=2.0,
        lat=REQUEST_AT[0],
        lon=REQUEST_AT[1],
        agency="sdt",
        start_date=START,
        windows=draw(st.sampled_from([mask_from_slots([]), mask_from_slots(range(20, 26))])),
        max_rate_pence=draw(st.sampled_from([None, 2400])),
        preferred_gender=draw(st.sampled_from([None, "female"])),
        preferred_languages=draw(st.sampled_from([frozenset(), frozenset({"somali"})])),
        known_provider_ids=draw(st.sampled_from([frozenset(), frozenset({"prv037"})])),
        urgency=draw(st.sampled_from(["routine", "hospital_discharge"])),
    )


weights_strategy = st.builds(
    Weights,
    **{
        name: st.sampled_from([0.0, 0.05, 0.25, 1.0, -0.5]) for name in Weights.__dataclass_fields__
    },
)


def scored_exhaustively(
    pool: ProviderPool, request: CareRequestSpec, k: int, weights: Weights
) -> list[tuple[str, float]]:
    rows, distance = eligible_with_distance(pool, request)
    _, normalised = feature_matrix(pool, request, rows, distance)
    score = weighted_scores(normalised, weights)
    best = rank_rows(pool, rows, score, k)
    return [
        (pool.ids[row], value)
        for row, value in zip(rows[best].tolist(), score[best].tolist(), strict=True)
    ]


@SETTINGS
@given(records=pools(), request=requests(), weights=weights_strategy, k=st.integers(1, 12))
def test_top_k_is_exactly_the_best_k_of_every_eligible_provider(
    records: list[ProviderRecord], request: CareRequestSpec, weights: Weights, k: int
) -> None:
    pool = ProviderPool.build(records)
    expected = scored_exhaustively(pool, request, k, weights)
    with mock.patch.object(scoring, "PRUNE_MIN_ROWS", 0):  # prune however few the candidates
        fast = top_k(pool, request, k, weights)
        rows, _ = top_candidates(pool, request, k, weights)
    assert [(s.provider_id, s.score) for s in fast] == expected
    assert [pool.ids[row] for row in rows.tolist()] == [pid for pid, _ in expected]


def test_a_provider_exactly_at_its_travel_radius_is_suggested() -> None:
    lat, lon = 51.4800, -2.6200
    edge = float(haversine_km(REQUEST_AT[0], REQUEST_AT[1], lat, lon))
    near = [
        ProviderRecord(
            provider_id=f"prv_{i:02d}",
            lat=REQUEST_AT[0],
            lon=REQUEST_AT[1],
            travel_radius_km=5.0,
            rates_pence={"companionship": 2800},
            approved_agencies=frozenset({"sdt"}),
            compliance_valid_until=date(2026, 1, 1),
            capacity_hours_per_week=20.0,
        )
        for i in range(30)
    ]
    far = replace(
        near[0],
        provider_id="prv_edge",
        lat=lat,
        lon=lon,
        travel_radius_km=edge,
        rates_pence={"companionship": 1000},
    )
    pool = ProviderPool.build([*near, far])
    request = CareRequestSpec(
        request_id="req",
        services=("companionship",),
        hours_per_week=2.0,
        lat=REQUEST_AT[0],
        lon=REQUEST_AT[1],
        agency="sdt",
        start_date=START,
    )
    weights = Weights(**{**{name: 0.0 for name in Weights.__dataclass_fields__}, "rate": 1.0})
    with mock.patch.object(scoring, "PRUNE_MIN_ROWS", 0):
        best = top_k(pool, request, 3, weights)
    assert best[0].provider_id == "prv_edge"
    assert np.isclose(best[0].explanation["distance"].raw, edge)


def test_rank_rows_keeps_the_best_when_every_score_is_negative() -> None:
    pool = ProviderPool.build(
        [
            ProviderRecord(
                provider_id=f"prv_{i}", lat=51.46, lon=-2.59, travel_radius_km=5.0, rates_pence={}
            )
            for i in range(4)
        ]
    )
    rows = np.arange(4, dtype=np.int64)
    score = np.array([-0.3, -0.1, -0.2, -0.1])
    assert rank_rows(pool, rows, score, 2).tolist() == [1, 3]
    assert rank_rows(pool, rows, score, 3).tolist() == [1, 3, 2]
