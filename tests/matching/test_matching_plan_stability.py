"""Plans are deterministic (machine load, threads) and never worse with more candidates."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from factories import make_provider, make_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_matching_decomposition import assert_feasible

from matching.assignment import assign_batch, candidate_pairs
from matching.availability import mask_from_windows
from matching.candidates import CareRequestSpec
from matching.pool import ProviderPool

GAP = 0.005


def town(
    n_providers: int, n_requests: int, seed: int
) -> tuple[ProviderPool, list[CareRequestSpec]]:
    """Providers and requests scattered over ~8 km, with mixed sizes, urgencies and windows."""
    rng = np.random.default_rng(seed)
    windows = [
        mask_from_windows([(d, "09:00", "12:00") for d in range(5)]),
        mask_from_windows([(d, "13:00", "16:00") for d in (0, 2, 4)]),
        mask_from_windows([]),
    ]
    providers = [
        make_provider(
            provider_id=f"prv_{i:04d}",
            lat=51.42 + 0.07 * rng.random(),
            lon=-2.65 + 0.11 * rng.random(),
            travel_radius_km=float(rng.uniform(2, 6)),
            capacity_hours_per_week=float(rng.choice([4.0, 6.0, 10.0])),
            committed_hours=float(rng.choice([0.0, 1.0, 2.0])),
            reliability=float(rng.random()),
        )
        for i in range(n_providers)
    ]
    requests = [
        make_request(
            request_id=f"req_{j:04d}",
            lat=51.42 + 0.07 * rng.random(),
            lon=-2.65 + 0.11 * rng.random(),
            hours_per_week=float(rng.choice([1.0, 2.0, 3.0, 4.0])),
            windows=windows[int(rng.integers(len(windows)))],
            min_window_share=float(rng.choice([1.0, 1.0, 0.5])),
            urgency=str(rng.choice(["routine", "soon", "hospital_discharge"])),
        )
        for j in range(n_requests)
    ]
    return ProviderPool.build(providers), requests


def test_the_same_input_gives_the_same_plan_under_cpu_load_and_in_one_or_two_threads() -> None:
    pool, requests = town(300, 900, seed=3)
    pairs = candidate_pairs(pool, requests, 30)
    # Small parts: the batch is cut into many parts, solved in parallel, then retried.
    idle = assign_batch(pool, requests, pairs, part_requests=150, workers=2)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        loaded = assign_batch(pool, requests, pairs, part_requests=150, workers=2)
        one_thread = assign_batch(pool, requests, pairs, part_requests=150, workers=1)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert "parts" in idle.status  # the cut path really ran
    assert idle.placements == loaded.placements == one_thread.placements
    assert idle.objective == loaded.objective == one_thread.objective
    assert idle.bound == loaded.bound == one_thread.bound


@st.composite
def instances(draw: st.DrawFn) -> tuple[ProviderPool, list[CareRequestSpec]]:
    n_providers = draw(st.integers(2, 25))
    n_requests = draw(st.integers(1, 40))
    return town(n_providers, n_requests, draw(st.integers(0, 10**6)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.integers(1, 6), st.integers(1, 25))
def test_more_candidates_never_give_a_worse_plan(instance, fewer: int, extra: int) -> None:
    pool, requests = instance
    small = assign_batch(pool, requests, candidate_pairs(pool, requests, fewer), mip_rel_gap=GAP)
    large = assign_batch(
        pool, requests, candidate_pairs(pool, requests, fewer + extra), mip_rel_gap=GAP
    )
    assert_feasible(pool, requests, large)
    assert large.gap is not None and large.gap <= GAP + 1e-9
    assert large.objective >= small.objective - GAP * abs(large.bound or 0.0) - 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.integers(1, 6), st.integers(1, 25))
def test_more_candidates_stay_within_the_reported_gap_when_the_batch_is_cut(
    instance, fewer: int, extra: int
) -> None:
    pool, requests = instance
    small = assign_batch(pool, requests, candidate_pairs(pool, requests, fewer), part_requests=8)
    large = assign_batch(
        pool, requests, candidate_pairs(pool, requests, fewer + extra), part_requests=8
    )
    assert_feasible(pool, requests, large)
    assert large.bound is not None and large.gap is not None
    assert large.bound >= small.objective - 1e-6  # the bound of the larger set bounds the smaller
    assert large.objective >= small.objective - large.gap * abs(large.bound) - 1e-6
