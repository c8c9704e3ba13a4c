"""The solver behind ``assign_batch``: HiGHS on independent parts, and an honest bound.

The model (see ``assignment``'s module doc) couples requests only through
shared providers, so the request-provider graph's connected components are
independent problems: they are solved separately (small ones bundled together,
up to ``part_pairs`` pairs a solve) and their LP bounds add up to the LP bound
of the whole. A component larger than ``part_pairs`` is cut spatially (k-d
split on the requests' locations, each provider going to the part where most
of its candidate hours are); pairs across the cut are dropped for that first
pass, then every request still unplaced is offered all its candidates again
against the capacity left, in a second, small solve.

When anything was cut the sum of the parts' LP values is no longer a bound,
so the bound reported is the Lagrangian dual of the whole LP relaxation
(relaxing each provider's capacity row with a price ``y_p``):
``sum_r max(0, max_e v_e - h_e y_p) + sum_pk L_pk max(0, y_p - c_k)``, an upper
bound on the LP (hence on any plan) for every ``y``, equal to it at the optimal
prices. It is minimised over a few candidate prices (0, the parts' capacity
duals, and subgradient steps), so the reported gap can only overstate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from matching.pool import BoolArray, FloatArray, IntArray

LOAD_COSTS = (0.0, 0.005, 0.01, 0.03)  # per hour in each load segment (convex: increasing)
_COSTS = np.array(LOAD_COSTS)
SUBGRADIENT_STEPS = 20
FIX_SECONDS = 5.0  # time limit of the MIP over one part's split requests
FIX_GAP = 0.02  # its relative gap (of the split requests' value, a small share of all)


@dataclass(frozen=True)
class Problem:
    """One batch as arrays: per pair e (request, provider row, hours, value, whole)."""

    request: IntArray
    provider: IntArray
    hours: FloatArray
    value: FloatArray
    whole: BoolArray  # the request must go whole to one provider
    segments: FloatArray  # (n_pool, 4) free hours per load segment, cheapest first
    lat: FloatArray  # per request, for the spatial cut
    lon: FloatArray


def remaining(segments: FloatArray, load: FloatArray) -> FloatArray:
    """Segments left once ``load`` hours per provider fill them cheapest first."""
    left = segments.copy()
    load = load.copy()
    for k in range(left.shape[1]):
        take = np.minimum(load, left[:, k])
        left[:, k] -= take
        load -= take
    return left


def plan_value(problem: Problem, share: FloatArray) -> float:
    """Objective of a plan: pair values minus the (convex) load cost of its loads."""
    load = np.asarray(np.bincount(problem.provider, weights=problem.hours * share,
                                  minlength=problem.segments.shape[0]), dtype=np.float64)
    used = problem.segments - remaining(problem.segments, load)
    return float((problem.value * share).sum() - (used * _COSTS).sum())


def lagrangian_bound(problem: Problem, prices: FloatArray) -> float:
    """Upper bound on the LP relaxation for any provider prices (see module doc)."""
    reduced = problem.value - problem.hours * prices[problem.provider]
    best = np.zeros(int(problem.request.max()) + 1 if problem.request.size else 0)
    np.maximum.at(best, problem.request, reduced)
    rows = np.unique(problem.provider)
    over = np.maximum(prices[rows, None] - _COSTS, 0.0)
    return float(best.sum() + (problem.segments[rows] * over).sum())


def best_bound(problem: Problem, prices: list[FloatArray], target: float) -> float:
    """The least Lagrangian bound over the given prices and Polyak subgradient steps."""
    n = problem.segments.shape[0]
    candidates = [np.zeros(n), *prices]
    values = [lagrangian_bound(problem, y) for y in candidates]
    y = candidates[int(np.argmin(values))].copy()
    bound = min(values)
    order = np.argsort(problem.request, kind="stable")
    request = problem.request[order]
    starts = np.flatnonzero(np.r_[True, request[1:] != request[:-1]])
    counts = np.diff(np.r_[starts, request.size])
    hours, provider = problem.hours[order], problem.provider[order]
    value = problem.value[order]
    for _ in range(SUBGRADIENT_STEPS):
        if bound <= target:
            break
        reduced = value - hours * y[provider]
        best = np.repeat(np.maximum.reduceat(reduced, starts), counts)
        top = np.flatnonzero((reduced == best) & (best > 0))
        first = np.ones(top.size, dtype=bool)
        first[1:] = request[top][1:] != request[top][:-1]
        top = top[first]
        demand = np.bincount(provider[top], weights=hours[top], minlength=n)
        supply = (problem.segments * (y[:, None] > _COSTS)).sum(axis=1)
        step = demand - supply
        norm = float((step * step).sum())
        if norm == 0.0:
            break
        y = np.maximum(y + 0.5 * (bound - target) / norm * step, 0.0)
        bound = min(bound, lagrangian_bound(problem, y))
    return bound


def solve(problem: Problem, n_requests: int, part_pairs: int, mip_rel_gap: float,
          time_limit: float, fix_above_pairs: int) -> tuple[FloatArray, float, str]:
    """(share per pair, bound, status): parts first, then the unplaced against what is left."""
    share = np.zeros(problem.request.size)
    fix = problem.request.size > fix_above_pairs  # relax-and-fix in every solve
    pieces, cut = parts(problem, n_requests, part_pairs)
    prices = np.zeros(problem.segments.shape[0])
    lp_total, statuses = 0.0, set()
    for edges in pieces:
        part_share, lp_value, status, part_prices = _solve_edges(
            problem, edges, problem.segments, mip_rel_gap, time_limit, fix)
        share[edges] = part_share
        lp_total += lp_value
        statuses.add(status)
        prices = np.maximum(prices, part_prices)
    if not cut:
        return share, lp_total, " / ".join(sorted(statuses))
    hours = problem.hours * share
    load = np.asarray(np.bincount(problem.provider, weights=hours,
                                  minlength=problem.segments.shape[0]), dtype=np.float64)
    left = remaining(problem.segments, load)
    placed = np.bincount(problem.request, weights=hours, minlength=n_requests)
    room = left.sum(axis=1)[problem.provider]
    retry = np.flatnonzero((placed[problem.request] <= 1e-9)
                           & (room >= np.where(problem.whole, problem.hours, 0.0) - 1e-9)
                           & (room > 1e-9))
    if retry.size:
        retry_share, _, status, _ = _solve_edges(problem, retry, left, mip_rel_gap,
                                                 time_limit, retry.size > fix_above_pairs)
        share[retry] = retry_share
        statuses.add(status)
    bound = best_bound(problem, [prices], plan_value(problem, share))
    return share, bound, f"{len(pieces)} parts + {retry.size} pairs retried: " + " / ".join(
        sorted(statuses))


def _solve_edges(problem: Problem, edges: IntArray, segments: FloatArray, mip_rel_gap: float,
                 time_limit: float, fix: bool, mip_seconds: float | None = None
                 ) -> tuple[FloatArray, float, str, FloatArray]:
    """HiGHS on the pairs ``edges``: (share, LP bound, status, provider prices)."""
    requests, row = np.unique(problem.request[edges], return_inverse=True)
    providers, column = np.unique(problem.provider[edges], return_inverse=True)
    n_pairs, n_req, n_prov, k = edges.size, requests.size, providers.size, _COSTS.size
    hours, whole = problem.hours[edges], problem.whole[edges]
    cost = np.concatenate([-problem.value[edges], np.tile(_COSTS, n_prov)])
    pair_cols = np.arange(n_pairs)
    matrix = coo_array(
        (np.concatenate([np.ones(n_pairs), hours, -np.ones(k * n_prov)]),
         (np.concatenate([row, n_req + column, n_req + np.repeat(np.arange(n_prov), k)]),
          np.concatenate([pair_cols, pair_cols, n_pairs + np.arange(k * n_prov)]))),
        shape=(n_req + n_prov, n_pairs + k * n_prov),
    ).tocsr()
    constraints = LinearConstraint(matrix, np.concatenate([np.full(n_req, -np.inf),
                                                           np.zeros(n_prov)]),
                                   np.concatenate([np.ones(n_req), np.zeros(n_prov)]))
    seg_high = segments[providers].ravel()
    relaxed = linprog(cost, A_ub=matrix[:n_req], b_ub=np.ones(n_req), A_eq=matrix[n_req:],
                      b_eq=np.zeros(n_prov), method="highs-ds",
                      bounds=np.stack([np.zeros(cost.size),
                                       np.concatenate([np.ones(n_pairs), seg_high])], axis=1),
                      options={"time_limit": time_limit})
    if relaxed.x is None:
        raise RuntimeError(f"HiGHS could not solve the relaxation: {relaxed.message}")
    lp_share = np.asarray(relaxed.x[:n_pairs])
    prices = np.zeros(problem.segments.shape[0])
    # d(min cost)/d(rhs) of a capacity row is minus the value of one more hour there.
    prices[providers] = np.maximum(-np.asarray(relaxed.eqlin.marginals), 0.0)
    fractional = whole & (lp_share > 1e-6) & (lp_share < 1 - 1e-6)
    open_request = np.zeros(n_req, dtype=bool)
    open_request[row[fractional]] = True
    if fix:  # fix-and-solve: keep the LP's integral part, a small MIP places the rest
        open_pair = open_request[row] & whole
        # Splittable requests next to a split whole one may make room: free them too.
        near = np.zeros(n_prov, dtype=bool)
        near[column[open_pair]] = True
        splittable = np.zeros(n_req, dtype=bool)
        splittable[row[~whole & near[column]]] = True
        open_pair |= splittable[row]
        share = np.where(open_pair, 0.0, np.clip(lp_share, 0.0, 1.0))
        share = np.where(whole & (share > 1 - 1e-6), 1.0, share)
        if open_pair.any():
            load = np.bincount(problem.provider[edges], weights=hours * share,
                               minlength=segments.shape[0])
            left = remaining(segments, np.asarray(load, dtype=np.float64))
            share[open_pair] = _solve_edges(problem, edges[open_pair], left,
                                            max(mip_rel_gap, FIX_GAP), time_limit, False,
                                            min(time_limit, FIX_SECONDS))[0]
        return share, -float(relaxed.fun), str(relaxed.message), prices
    solved = milp(cost, integrality=np.concatenate([whole, np.zeros(k * n_prov, dtype=bool)])
                  .astype(np.int8), constraints=constraints,
                  bounds=Bounds(np.zeros(cost.size), np.concatenate([np.ones(n_pairs), seg_high])),
                  options={"mip_rel_gap": mip_rel_gap, "time_limit": mip_seconds or time_limit})
    share = np.zeros(n_pairs) if solved.x is None else np.asarray(solved.x[:n_pairs])
    share = np.clip(share, 0.0, 1.0)
    share = np.where(whole, np.round(share), share)
    if mip_seconds is not None:  # a MIP cut short may hold a poor plan: keep the better
        rounded = _round(lp_share, row, column, hours, whole, segments[providers].sum(axis=1))
        if problem.value[edges] @ rounded > problem.value[edges] @ share:
            return rounded, -float(relaxed.fun), "LP rounded", prices
    elif solved.x is None:
        raise RuntimeError(f"HiGHS found no plan: {solved.message}")
    return share, -float(relaxed.fun), str(solved.message), prices


def _round(lp_share: FloatArray, row: IntArray, column: IntArray, hours: FloatArray,
           whole: BoolArray, room: FloatArray) -> FloatArray:
    """Greedy rounding: pairs by LP share, each request placed once, where room is left."""
    share = np.zeros(lp_share.size)
    done: set[int] = set()
    for e in np.argsort(-lp_share, kind="stable").tolist():
        r, p = int(row[e]), int(column[e])
        if r in done or lp_share[e] <= 1e-9:
            continue
        take = hours[e] if whole[e] else min(hours[e] * lp_share[e], float(room[p]))
        if room[p] >= take - 1e-9 and take > 1e-9:
            share[e] = take / hours[e]
            room[p] -= take
            if whole[e]:
                done.add(r)
    return share


def parts(problem: Problem, n_requests: int, part_pairs: int) -> tuple[list[IntArray], bool]:
    """Pair index sets solved separately, and whether any pair was cut away."""
    n_pool = problem.segments.shape[0]
    graph = coo_array((np.ones(problem.request.size),
                       (problem.request, n_requests + problem.provider)),
                      shape=(n_requests + n_pool, n_requests + n_pool))
    _, label = connected_components(graph, directed=False)
    component = label[problem.request]
    sizes = np.bincount(component)
    result: list[IntArray] = []
    bundle: list[IntArray] = []
    bundled, cut = 0, False
    order = np.argsort(component, kind="stable")
    bounds = np.searchsorted(component[order], np.arange(sizes.size + 1))
    for c in np.flatnonzero(sizes).tolist():
        edges = order[bounds[c]:bounds[c + 1]]
        if edges.size > 2 * part_pairs:  # up to twice the size: one exact solve is worth it
            result.extend(_cut(problem, edges, part_pairs))
            cut = True
            continue
        if bundled + edges.size > part_pairs and bundle:
            result.append(np.concatenate(bundle))
            bundle, bundled = [], 0
        bundle.append(edges)
        bundled += edges.size
    if bundle:
        result.append(np.concatenate(bundle))
    return result, cut


def _cut(problem: Problem, edges: IntArray, part_pairs: int) -> list[IntArray]:
    """Split one component's pairs spatially; pairs across the cut are left out."""
    levels = int(np.ceil(np.log2(edges.size / part_pairs)))
    requests = np.unique(problem.request[edges])
    groups = [requests]
    for level in range(levels):
        key = problem.lat if level % 2 == 0 else problem.lon
        split = []
        for g in groups:
            g = g[np.argsort(key[g], kind="stable")]
            split.extend([g[: g.size // 2], g[g.size // 2:]])
        groups = split
    region = np.zeros(int(problem.request.max()) + 1, dtype=np.int64)
    for i, g in enumerate(groups):
        region[g] = i
    pair_region = region[problem.request[edges]]
    providers, column = np.unique(problem.provider[edges], return_inverse=True)
    weight = coo_array((problem.hours[edges], (column, pair_region)),
                       shape=(providers.size, len(groups))).toarray()
    home = np.argmax(weight, axis=1)[column]
    kept = edges[home == pair_region]
    kept_region = pair_region[home == pair_region]
    return [kept[kept_region == i] for i in range(len(groups)) if np.any(kept_region == i)]
