"""Batch capacitated assignment of open care requests to providers.

The periodic re-plan solves one mixed-integer programme with HiGHS (through
``highspy``, see ``matching.solve``). Variables: ``z[r, p]`` the share of request r's
weekly hours given to provider p, only for the top candidates of each request
(sparse). A request with ``min_window_share >= 1`` must go whole to one provider
(``z`` binary, continuity of care); otherwise ``z`` is continuous and the hours
may be split. Each provider's new load is cut into piecewise-linear segments
(up to 25%, 50%, 80%, 100% of capacity, committed hours counted first) whose cost
rises, a convex penalty that spreads work across micro-providers.

The lexicographic objective (hours, urgent first > match quality > fairness)
is a weighted sum with tiers two orders of magnitude apart: one hour of care
is worth ``HOUR_VALUE`` x priority while quality adds at most 1 per hour and
fairness costs at most 0.03 per hour.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from matching.batch import batch_candidates
from matching.candidates import CareRequestSpec
from matching.pool import FloatArray, IntArray, ProviderPool
from matching.scoring import Weights
from matching.solve import LOAD_BREAKS, MIP_NODES, Problem, plan_value, solve

PRIORITY = {"routine": 1.0, "soon": 2.0, "hospital_discharge": 4.0}
HOUR_VALUE = 100.0
QUALITY_VALUE = 1.0
STABILITY_BONUS = 0.2  # quality added to a pair the previous plan made (see ``prefer``)


@dataclass(frozen=True)
class Placement:
    """Hours per week of one request given to one provider."""

    request_id: str
    provider_id: str
    hours: float


@dataclass(frozen=True)
class CandidatePairs:
    """Sparse eligible (request, provider) pairs with their match quality."""

    request: IntArray  # index into the request list
    provider: IntArray  # pool row
    quality: FloatArray  # 0..1, the normalised score
    seconds: float  # time spent computing them
    cpu_seconds: float = 0.0  # CPU time spent computing them, all threads


@dataclass(frozen=True)
class AssignmentResult:
    """A plan and the figures that judge it."""

    placements: list[Placement]
    hours_requested: float
    hours_placed: float
    weighted_hours: float  # hours x urgency priority
    objective: float  # maximised value of the combined objective
    bound: float | None  # LP relaxation bound on ``objective`` (None for greedy)
    gap: float | None  # (bound - objective) / bound
    solve_seconds: float
    status: str
    top10_share: float  # share of placed hours going to the top 10% of providers
    gini: float  # Gini coefficient of placed hours over candidate providers
    workers: int = 1  # threads the parts were solved in
    solve_cpu_seconds: float = 0.0  # CPU time of the solve, all threads
    single_provider_share: float = 0.0  # of the requests placed, share with one provider only


def candidate_pairs(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    per_request: int = 30,
    weights: Weights | None = None,
) -> CandidatePairs:
    """The top ``per_request`` eligible providers of each request (vectorised engine).

    The same pairs as ``scoring.top_candidates`` request by request, computed for
    the whole batch at once (``matching.batch``); grouped by request, best first.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    request, provider, quality = batch_candidates(pool, requests, per_request, weights)
    return CandidatePairs(
        request=request,
        provider=provider,
        quality=quality,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


def prefer(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    pairs: CandidatePairs,
    previous: Collection[tuple[str, str]],
    bonus: float = STABILITY_BONUS,
) -> CandidatePairs:
    """The pairs, ``bonus`` added to the quality of each (request id, provider id) in ``previous``.

    A re-plan keeps the last plan's placements unless another provider is
    better by more than the bonus (a fifth of the quality range by default) or
    places more hours: a manager does not see the list shuffle hourly. Hours
    still come first (the quality tier is two orders of magnitude below).
    """
    if not previous or pairs.request.size == 0:
        return pairs
    ids, before = [r.request_id for r in requests], set(previous)
    kept = np.array(
        [
            (ids[r], pool.ids[p]) in before
            for r, p in zip(pairs.request.tolist(), pairs.provider.tolist(), strict=True)
        ],
        dtype=bool,
    )
    return replace(pairs, quality=pairs.quality + bonus * kept)


def _segments(pool: ProviderPool, rows: IntArray) -> FloatArray:
    """(len(rows), len(LOAD_BREAKS)) hours available in each load segment, committed hours first."""
    capacity = pool.capacity_hours[rows]
    committed = np.minimum(pool.committed_hours[rows], capacity)
    lengths = np.zeros((rows.size, len(LOAD_BREAKS)))
    low = np.zeros(rows.size)
    for k, share in enumerate(LOAD_BREAKS):
        high = share * capacity
        lengths[:, k] = np.clip(high - np.maximum(committed, low), 0.0, None)
        low = high
    return lengths


def _fairness(pool: ProviderPool, pairs: CandidatePairs, hours: FloatArray) -> tuple[float, float]:
    rows = np.unique(pairs.provider)
    if rows.size == 0 or hours.sum() <= 0:
        return 0.0, 0.0
    per_provider = np.zeros(len(pool))
    np.add.at(per_provider, pairs.provider, hours)
    loads = np.sort(per_provider[rows])
    total = float(loads.sum())
    top = math.ceil(0.1 * loads.size)
    ranks = np.arange(1, loads.size + 1)
    gini = float(2 * (ranks * loads).sum() / (loads.size * total) - (loads.size + 1) / loads.size)
    return float(loads[-top:].sum()) / total, gini


def _result(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    pairs: CandidatePairs,
    share: FloatArray,
    extra: dict[str, object],
) -> AssignmentResult:
    wanted = np.array([r.hours_per_week for r in requests], dtype=np.float64)
    priority = np.array([PRIORITY[r.urgency] for r in requests], dtype=np.float64)
    hours = wanted[pairs.request] * share
    hours = np.where(hours > 1e-7, hours, 0.0)
    placed = np.flatnonzero(hours)
    placements = [
        Placement(
            requests[pairs.request[e]].request_id,
            pool.ids[pairs.provider[e]],
            round(float(hours[e]), 6),
        )
        for e in placed
    ]
    top10, gini = _fairness(pool, pairs, hours)
    providers_per_request = np.bincount(pairs.request[placed], minlength=len(requests))
    served = providers_per_request > 0
    single = float((providers_per_request == 1).sum() / served.sum()) if served.any() else 0.0
    value = hours * (HOUR_VALUE * priority[pairs.request] + QUALITY_VALUE * pairs.quality)
    objective = extra.pop("objective", None)
    return AssignmentResult(
        placements=placements,
        hours_requested=float(wanted.sum()),
        hours_placed=float(hours.sum()),
        weighted_hours=float((hours * priority[pairs.request]).sum()),
        objective=float(objective) if isinstance(objective, float) else float(value.sum()),
        bound=extra.get("bound"),  # type: ignore[arg-type]
        gap=extra.get("gap"),  # type: ignore[arg-type]
        solve_seconds=float(extra["seconds"]),  # type: ignore[arg-type]
        status=str(extra["status"]),
        top10_share=top10,
        gini=gini,
        workers=int(extra.get("workers", 1)),  # type: ignore[call-overload]
        solve_cpu_seconds=float(extra.get("cpu_seconds", 0.0)),  # type: ignore[arg-type]
        single_provider_share=single,
    )


def _problem(
    pool: ProviderPool, requests: Sequence[CareRequestSpec], pairs: CandidatePairs
) -> Problem:
    """The batch as solver arrays (per-pair hours and value, segments per pool row)."""
    wanted = np.array([r.hours_per_week for r in requests], dtype=np.float64)
    priority = np.array([PRIORITY[r.urgency] for r in requests], dtype=np.float64)
    whole = np.array([r.min_window_share >= 1.0 for r in requests], dtype=bool)
    hours = wanted[pairs.request]
    return Problem(
        request=pairs.request,
        provider=pairs.provider,
        hours=hours,
        value=hours * (HOUR_VALUE * priority[pairs.request] + QUALITY_VALUE * pairs.quality),
        whole=whole[pairs.request],
        segments=_segments(pool, np.arange(len(pool))),
        lat=np.array([r.lat for r in requests], dtype=np.float64),
        lon=np.array([r.lon for r in requests], dtype=np.float64),
    )


def assign_batch(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    pairs: CandidatePairs | None = None,
    per_request: int = 30,
    mip_rel_gap: float = 0.005,
    part_requests: int = 1_500,
    workers: int | None = None,
    mip_nodes: int = MIP_NODES,
    weights: Weights | None = None,
) -> AssignmentResult:
    """Plan all requests at once against provider free capacity (see module doc).

    ``pairs`` may be given (e.g. from stored suggestions); otherwise the top
    ``per_request`` candidates of each request (scored with ``weights``) are
    computed here. Independent components are solved apart, up to
    ``part_requests`` requests a HiGHS solve (a larger component is cut
    spatially, see ``matching.solve``); each part by its LP, an LP dive and a
    greedy fill, and by its whole MIP (at most ``mip_nodes`` nodes) when that is
    not within ``mip_rel_gap`` of the part's LP bound. Parts are solved in
    ``workers`` threads (default: one per available CPU); the plan is the same
    whatever ``workers`` and the machine's load (work limits only, no time limits).
    """
    pairs = pairs if pairs is not None else candidate_pairs(pool, requests, per_request, weights)
    started = time.perf_counter()
    cpu_started = time.process_time()
    if pairs.request.size == 0:
        return _result(
            pool,
            requests,
            pairs,
            np.zeros(0),
            {"seconds": 0.0, "status": "empty", "bound": 0.0, "gap": 0.0},
        )
    problem = _problem(pool, requests, pairs)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    share, bound, status = solve(
        problem, len(requests), part_requests, mip_rel_gap, mip_nodes, workers
    )
    objective = plan_value(problem, share)
    gap = (bound - objective) / abs(bound) if bound else 0.0
    return _result(
        pool,
        requests,
        pairs,
        share,
        {
            "seconds": time.perf_counter() - started,
            "status": status,
            "cpu_seconds": time.process_time() - cpu_started,
            "bound": bound,
            "gap": max(gap, 0.0),
            "objective": objective,
            "workers": workers,
        },
    )


def greedy_assign(
    pool: ProviderPool,
    requests: Sequence[CareRequestSpec],
    pairs: CandidatePairs | None = None,
    per_request: int = 30,
) -> AssignmentResult:
    """First-come baseline: each request in turn takes its best candidates with room."""
    pairs = pairs if pairs is not None else candidate_pairs(pool, requests, per_request)
    started, cpu_started = time.perf_counter(), time.process_time()
    free = pool.free_hours.copy()
    share = np.zeros(pairs.request.size)
    # Pairs are grouped by request, best candidate first (the order top_candidates gives).
    starts = np.searchsorted(pairs.request, np.arange(len(requests) + 1))
    for i, request in enumerate(requests):
        remaining = request.hours_per_week
        for e in range(starts[i], starts[i + 1]):
            row = pairs.provider[e]
            if request.min_window_share >= 1.0:
                if free[row] >= remaining - 1e-9:
                    share[e], free[row], remaining = 1.0, free[row] - remaining, 0.0
            elif free[row] > 1e-9:
                taken = min(remaining, float(free[row]))
                share[e] = taken / request.hours_per_week
                free[row] -= taken
                remaining -= taken
            if remaining <= 1e-9:
                break
    return _result(
        pool,
        requests,
        pairs,
        share,
        {
            "seconds": time.perf_counter() - started,
            "status": "greedy",
            "cpu_seconds": time.process_time() - cpu_started,
        },
    )
