"""Batch candidate pairs agree with ranking each request on its own."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_matching_properties import REGULATED, SETTINGS, pools, requests, weights_strategy

from matching.assignment import candidate_pairs
from matching.candidates import CareRequestSpec
from matching.pool import ProviderPool, ProviderRecord
from matching.scoring import Weights, top_candidates


@SETTINGS
@given(records=pools(), batch=st.lists(requests(), min_size=1, max_size=8),
       weights=weights_strategy, k=st.integers(1, 12))
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
