"""A national directory: checks on the latitude band give the same providers as on the pool."""

from __future__ import annotations

from unittest import mock

import numpy as np
from factories import make_provider, make_request

from matching import candidates
from matching.candidates import eligible, eligible_rows
from matching.pool import ProviderPool
from matching.scoring import top_k


def test_a_national_pool_gives_the_same_eligible_rows_and_ranking_with_or_without_the_band():
    rng = np.random.default_rng(11)
    providers = [
        make_provider(
            provider_id=f"prv_{i:04d}",
            lat=float(rng.uniform(50.0, 58.0)),
            lon=float(rng.uniform(-5.0, 1.0)),
            travel_radius_km=float(rng.choice([5.0, 20.0, 60.0])),
        )
        for i in range(1_500)
    ]
    pool = ProviderPool.build(providers)
    requests = [
        make_request(
            request_id=f"req_{j}",
            lat=float(rng.uniform(50.0, 58.0)),
            lon=float(rng.uniform(-5.0, 1.0)),
        )
        for j in range(40)
    ]
    found = 0
    for request in requests:
        lo, hi = candidates.latitude_band(pool, request)
        assert hi - lo < candidates.BAND_SHARE * len(pool)  # the band path runs
        banded = eligible_rows(pool, request)
        with mock.patch.object(candidates, "BAND_SHARE", 0.0):  # whole-pool path
            whole = eligible_rows(pool, request)
            whole_top = top_k(pool, request, 10)
        assert (
            banded.tolist() == whole.tolist() == np.flatnonzero(eligible(pool, request)[0]).tolist()
        )
        assert top_k(pool, request, 10) == whole_top
        found += banded.size
    assert found > 40  # the requests do find providers
