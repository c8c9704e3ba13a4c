"""Solving components apart, cutting large ones, and the Lagrangian bound."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from factories import make_provider, make_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.assignment import AssignmentResult, _problem, assign_batch, candidate_pairs
from matching.pool import ProviderPool
from matching.solve import lagrangian_bound

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHOLE_PROBLEM = 10**9  # part_requests that keeps everything in one solve


@st.composite
def clustered(draw: st.DrawFn) -> tuple[ProviderPool, list]:
    """Providers and requests in two towns 110 km apart (two or more components)."""
    town = st.sampled_from([51.455, 52.455])
    providers = [
        make_provider(
            provider_id=f"prv_{i}",
            lat=draw(town) + draw(st.integers(-3, 3)) * 0.005,
            capacity_hours_per_week=draw(st.sampled_from([2.0, 4.0, 6.0])),
            committed_hours=draw(st.sampled_from([0.0, 1.0])),
        )
        for i in range(draw(st.integers(1, 8)))
    ]
    requests = [
        make_request(
            request_id=f"req_{j}",
            lat=draw(town) + draw(st.integers(-3, 3)) * 0.005,
            hours_per_week=draw(st.sampled_from([1.0, 2.0, 3.0])),
            min_window_share=draw(st.sampled_from([1.0, 1.0, 0.5])),
            urgency=draw(st.sampled_from(["routine", "soon", "hospital_discharge"])),
        )
        for j in range(draw(st.integers(1, 10)))
    ]
    return ProviderPool.build(providers), requests


def assert_feasible(pool: ProviderPool, requests: list, plan: AssignmentResult) -> None:
    by_provider: dict[str, float] = defaultdict(float)
    by_request: dict[str, list[float]] = defaultdict(list)
    for placement in plan.placements:
        by_provider[placement.provider_id] += placement.hours
        by_request[placement.request_id].append(placement.hours)
    for provider_id, hours in by_provider.items():
        assert hours <= pool.free_hours[pool.row_of[provider_id]] + 1e-6
    wanted = {r.request_id: r for r in requests}
    for request_id, parts in by_request.items():
        assert sum(parts) <= wanted[request_id].hours_per_week + 1e-6
        if wanted[request_id].min_window_share >= 1.0:
            assert parts == [wanted[request_id].hours_per_week]


@SETTINGS
@given(clustered())
def test_components_solved_apart_match_the_monolithic_solve(instance) -> None:
    pool, requests = instance
    pairs = candidate_pairs(pool, requests, per_request=30)
    whole = assign_batch(pool, requests, pairs, mip_rel_gap=0.0, part_requests=WHOLE_PROBLEM)
    # The largest component fits in one part, so nothing is cut: only components split.
    n = len(requests)
    labels = _components(pairs.request, n + pairs.provider)
    biggest = max(np.bincount(labels[pairs.request]).max(initial=0), 1)
    apart = assign_batch(pool, requests, pairs, mip_rel_gap=0.0, part_requests=int(biggest))
    assert_feasible(pool, requests, apart)
    assert abs(apart.objective - whole.objective) <= 1e-6 * max(1.0, abs(whole.objective))
    assert whole.bound is not None and apart.bound is not None
    assert abs(apart.bound - whole.bound) <= 1e-6 * max(1.0, abs(whole.bound))


@SETTINGS
@given(clustered())
def test_a_cut_plan_is_feasible_and_its_bound_stays_a_bound(instance) -> None:
    pool, requests = instance
    pairs = candidate_pairs(pool, requests, per_request=30)
    whole = assign_batch(pool, requests, pairs, mip_rel_gap=0.0, part_requests=WHOLE_PROBLEM)
    cut = assign_batch(pool, requests, pairs, mip_rel_gap=0.0, part_requests=2)
    assert_feasible(pool, requests, cut)
    assert whole.bound is not None and cut.bound is not None
    assert cut.objective <= whole.bound + 1e-6 * max(1.0, whole.bound)
    assert cut.bound >= whole.bound - 1e-6 * max(1.0, whole.bound)  # never below the LP
    assert cut.gap is not None and cut.gap >= 0.0


@SETTINGS
@given(clustered(), st.lists(st.floats(0.0, 500.0), min_size=8, max_size=8))
def test_any_prices_give_an_upper_bound_on_the_lp(instance, prices: list[float]) -> None:
    pool, requests = instance
    pairs = candidate_pairs(pool, requests, per_request=30)
    if pairs.request.size == 0:
        return
    whole = assign_batch(pool, requests, pairs, mip_rel_gap=0.0, part_requests=WHOLE_PROBLEM)
    problem = _problem(pool, requests, pairs)
    y = np.array(prices[: len(pool)], dtype=np.float64)
    assert whole.bound is not None
    assert lagrangian_bound(problem, y) >= whole.bound - 1e-6 * max(1.0, whole.bound)


def _components(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    size = int(max(left.max(initial=0), right.max(initial=0))) + 1
    graph = coo_array((np.ones(left.size), (left, right)), shape=(size, size))
    return connected_components(graph, directed=False)[1]
