"""Batch candidate pairs agree with ranking each request on its own."""

from __future__ import annotations

import numpy as np
from factories import make_provider, make_request
from hypothesis import given
from hypothesis import strategies as st
from test_matching_properties import REGULATED, SETTINGS, pools, requests, weights_strategy

from matching.assignment import candidate_pairs
from matching.candidates import CareRequestSpec
from matching.geo import haversine_km
from matching.index import chord_km, unit_vectors
from matching.pool import ProviderPool, ProviderRecord
from matching.scoring import Weights, top_candidates


@SETTINGS
@given(
    records=pools(),
    batch=st.lists(requests(), min_size=1, max_size=8),
    weights=weights_strategy,
    k=st.integers(1, 12),
)
def test_batch_pairs_match_one_request_at_a_time(
    records: list[ProviderRecord], batch: list[CareRequestSpec], weights: Weights, k: int
) -> None:
    pool = ProviderPool.build(records, regulated_services=REGULATED)
    pairs = candidate_pairs(pool, batch, k, weights)
    assert np.all(np.diff(pairs.request) >= 0)  # grouped by request, in request order
    for i, request in enumerate(batch):
        rows, quality = top_candidates(pool, request, k, weights)
        mine = pairs.request == i
        assert pairs.provider[mine].size == rows.size
        assert np.allclose(pairs.quality[mine], quality, rtol=0.0, atol=1e-12)
        for got, expected, q in zip(pairs.provider[mine], rows, quality, strict=True):
            if got != expected:  # only within a float tie
                assert np.isclose(quality, q, rtol=0.0, atol=1e-12).sum() > 1


def test_an_empty_batch_or_pool_gives_no_pairs() -> None:
    pool = ProviderPool.build([])
    assert candidate_pairs(pool, [], 5).request.size == 0


@SETTINGS
@given(
    lat1=st.floats(-90, 90),
    lon1=st.floats(-180, 180),
    lat2=st.floats(-90, 90),
    lon2=st.floats(-180, 180),
    near=st.booleans(),
)
def test_the_chord_distance_is_within_its_error_bound_of_the_haversine(
    lat1: float, lon1: float, lat2: float, lon2: float, near: bool
) -> None:
    if near:  # most pairs that matter are a few km apart
        lat2, lon2 = lat1 + (lat2 / 90) * 0.1, lon1 + (lon2 / 180) * 0.1
        lat2 = min(max(lat2, -90.0), 90.0)
    u = unit_vectors(np.array([lat1]), np.array([lon1]))[0]
    v = unit_vectors(np.array([lat2]), np.array([lon2]))[0]
    approx, error = chord_km(np.array([u @ v]))
    assert abs(approx[0] - haversine_km(lat1, lon1, lat2, lon2)) <= error


def test_pruning_keeps_exact_ties_broken_by_provider_id() -> None:
    ids = [f"prv_{i:03d}" for i in range(60)]
    shuffled = [ids[(i * 37) % 60] for i in range(60)]  # ids out of row order
    records = [
        make_provider(provider_id=x, lat=51.4552 + (i % 3) * 1e-4) for i, x in enumerate(shuffled)
    ]
    pool = ProviderPool.build(records)
    batch = [make_request(request_id=f"req_{i}", lat=51.4600 + i * 1e-3) for i in range(3)]
    pairs = candidate_pairs(pool, batch, 7)
    for i, request in enumerate(batch):
        rows, quality = top_candidates(pool, request, 7)
        mine = pairs.request == i
        assert pairs.provider[mine].tolist() == rows.tolist()
        assert np.array_equal(pairs.quality[mine], quality)
