"""Batch assignment: feasibility invariants, continuity, and beating greedy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from factories import make_provider, make_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.assignment import assign_batch, candidate_pairs, greedy_assign
from matching.candidates import eligible
from matching.pool import ProviderPool


@st.composite
def instances(draw: st.DrawFn) -> tuple[ProviderPool, list]:
    providers = [
        make_provider(
            provider_id=f"prv_{i}",
            lat=51.455 + draw(st.integers(-3, 3)) * 0.005,
            capacity_hours_per_week=draw(st.sampled_from([2.0, 4.0, 6.0, 10.0])),
            committed_hours=draw(st.sampled_from([0.0, 1.0, 2.0])),
            rates_pence={"companionship": draw(st.sampled_from([1600, 2000, 2600]))},
        )
        for i in range(draw(st.integers(1, 6)))
    ]
    requests = [
        make_request(
            request_id=f"req_{j}",
            lat=51.455 + draw(st.integers(-3, 3)) * 0.005,
            hours_per_week=draw(st.sampled_from([1.0, 2.0, 3.0, 4.0])),
            min_window_share=draw(st.sampled_from([1.0, 1.0, 0.5])),
            urgency=draw(st.sampled_from(["routine", "soon", "hospital_discharge"])),
            max_rate_pence=draw(st.sampled_from([None, 2100])),
        )
        for j in range(draw(st.integers(1, 8)))
    ]
    return ProviderPool.build(providers), requests


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_a_plan_respects_capacity_hours_eligibility_and_beats_greedy(instance) -> None:
    pool, requests = instance
    pairs = candidate_pairs(pool, requests, per_request=30)
    plan = assign_batch(pool, requests, pairs, mip_rel_gap=0.0)
    greedy = greedy_assign(pool, requests, pairs)
    by_provider: dict[str, float] = defaultdict(float)
    by_request: dict[str, list[float]] = defaultdict(list)
    wanted = {r.request_id: r for r in requests}
    for placement in plan.placements:
        by_provider[placement.provider_id] += placement.hours
        by_request[placement.request_id].append(placement.hours)
        request = wanted[placement.request_id]
        mask, _ = eligible(pool, request)
        assert mask[pool.row_of[placement.provider_id]]
    for provider_id, hours in by_provider.items():
        assert hours <= pool.free_hours[pool.row_of[provider_id]] + 1e-6
    for request_id, parts in by_request.items():
        request = wanted[request_id]
        assert sum(parts) <= request.hours_per_week + 1e-6
        if request.min_window_share >= 1.0:  # continuity: whole, to one provider
            assert parts == [request.hours_per_week]
    assert plan.weighted_hours >= greedy.weighted_hours - 1e-6
    assert plan.bound is not None and plan.objective <= plan.bound + 1e-6


def test_scarce_capacity_goes_to_the_hospital_discharge_first() -> None:
    pool = ProviderPool.build([make_provider(capacity_hours_per_week=4.0)])
    routine = make_request(request_id="req_routine")
    urgent = replace(make_request(), request_id="req_urgent", urgency="hospital_discharge")
    plan = assign_batch(pool, [routine, urgent])
    assert [(p.request_id, p.hours) for p in plan.placements] == [("req_urgent", 4.0)]
    greedy = greedy_assign(pool, [routine, urgent])
    assert [p.request_id for p in greedy.placements] == ["req_routine"]


def test_a_splittable_request_may_be_shared_between_providers() -> None:
    pool = ProviderPool.build(
        [make_provider(provider_id=f"prv_{i}", capacity_hours_per_week=3.0) for i in range(2)]
    )
    plan = assign_batch(pool, [make_request(hours_per_week=6.0, min_window_share=0.5)])
    assert plan.hours_placed == 6.0
    assert sorted(p.hours for p in plan.placements) == [3.0, 3.0]


def test_fairness_figures_are_reported() -> None:
    pool = ProviderPool.build([make_provider(provider_id=f"prv_{i}") for i in range(4)])
    requests = [make_request(request_id=f"req_{j}", hours_per_week=2.0) for j in range(8)]
    plan = assign_batch(pool, requests)
    assert plan.hours_placed == 16.0
    assert 0.0 <= plan.gini < 0.3  # the load penalty spreads the work
    assert 0.0 < plan.top10_share <= 1.0
