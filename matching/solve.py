"""The solver behind ``assign_batch``: HiGHS on independent parts, and an honest bound.

The model (see ``assignment``'s module doc) couples requests only through
shared providers, so the request-provider graph's connected components are
independent problems: they are solved separately (small ones bundled together,
up to ``part_requests`` requests a solve) and their LP bounds add up to the LP
bound of the whole. A component larger than ``part_requests`` is cut spatially (k-d
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

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import highspy
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from matching.pool import BoolArray, FloatArray, IntArray

LOAD_BREAKS = (0.25, 0.5, 0.8, 1.0)  # shares of capacity where the fairness cost steps up
LOAD_COSTS = (0.0, 0.005, 0.01, 0.03)  # per hour in each load segment (convex: increasing)
if len(LOAD_BREAKS) != len(LOAD_COSTS) or list(LOAD_COSTS) != sorted(LOAD_COSTS):
    raise ImportError("one cost per load segment, increasing (the load penalty must be convex)")
_COSTS = np.array(LOAD_COSTS)
SUBGRADIENT_STEPS = 20
FIX_GAP = 0.02  # relative gap of the MIP over a part's split requests (a small share of all)
# Work limits, never wall-clock ones: the same input gives the same plan on an idle
# or a loaded machine. Each HiGHS solve runs in one thread with a fixed seed.
LP_ITERATIONS = 5_000_000  # simplex iterations of one LP (far above what a part takes)
MIP_NODES = 2_000  # branch-and-bound nodes of one MIP
MIP_ROUND = 2  # parts re-solved as whole MIPs per round (fixed: not the number of threads)
SEED = 0


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
    load = np.asarray(
        np.bincount(
            problem.provider, weights=problem.hours * share, minlength=problem.segments.shape[0]
        ),
        dtype=np.float64,
    )
    used = problem.segments - remaining(problem.segments, load)
    return float((problem.value * share).sum() - (used * _COSTS).sum())


def lagrangian_bound(problem: Problem, prices: FloatArray, rows: IntArray | None = None) -> float:
    """Upper bound on the LP relaxation for any provider prices (see module doc).

    ``rows`` are the providers that have pairs (computed when not given).
    """
    reduced = problem.value - problem.hours * prices[problem.provider]
    best = np.zeros(int(problem.request.max()) + 1 if problem.request.size else 0)
    np.maximum.at(best, problem.request, reduced)
    rows = np.unique(problem.provider) if rows is None else rows
    over = np.maximum(prices[rows, None] - _COSTS, 0.0)
    return float(best.sum() + (problem.segments[rows] * over).sum())


def best_bound(problem: Problem, prices: list[FloatArray], target: float) -> float:
    """The least Lagrangian bound over the given prices and Polyak subgradient steps."""
    n = problem.segments.shape[0]
    candidates = [np.zeros(n), *prices]
    rows = np.unique(problem.provider)
    values = [lagrangian_bound(problem, y, rows) for y in candidates]
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
        bound = min(bound, lagrangian_bound(problem, y, rows))
    return bound


def solve(
    problem: Problem,
    n_requests: int,
    part_requests: int,
    mip_rel_gap: float,
    mip_nodes: int = MIP_NODES,
    workers: int = 1,
) -> tuple[FloatArray, float, str]:
    """(share per pair, bound, status): parts, their whole MIPs while needed, then the unplaced.

    1. Each part by relax-and-fix (``solve_part``).
    2. While the parts' plans are further than ``mip_rel_gap`` from the sum of
       their LP values, the parts furthest from their own LP (in value) are
       solved as whole MIPs, ``MIP_ROUND`` at a time, keeping the better plan
       and the tighter bound. The method depends on the gap, not on the size of
       the batch: more candidates do not switch it to a weaker one.
    3. With a cut, every request still unplaced is offered all its candidates
       against the capacity left.

    Parts are independent, so with ``workers`` > 1 they are solved in that many
    threads at once; each solve is single-threaded with work limits only, and
    what is solved never depends on ``workers``, so neither does the plan, nor
    on the machine's load.
    """
    share = np.zeros(problem.request.size)
    pieces, cut = parts(problem, n_requests, part_requests)
    prices = np.zeros(problem.segments.shape[0])
    statuses: set[str] = set()
    part_list = [_part(problem, edges, problem.segments) for edges in pieces]
    results = _run_all(
        solve_part,
        [(p, mip_rel_gap, mip_nodes) for p in part_list],
        [p.row.size for p in part_list],
        workers,
    )
    shares = [r[0] for r in results]
    lps = [r[1] for r in results]
    values = [_part_value(p, x) for p, x in zip(part_list, shares, strict=True)]
    for edges, (_, _, status, part_prices) in zip(pieces, results, strict=True):
        statuses.add(status)
        providers = np.unique(problem.provider[edges])
        prices[providers] = np.maximum(prices[providers], part_prices)
    tried: set[int] = set()
    while sum(values) < (1.0 - mip_rel_gap) * sum(lps) - 1e-9 * abs(sum(lps)):
        loss = sorted(
            (lps[i] - values[i], -i)
            for i in range(len(pieces))
            if i not in tried and lps[i] - values[i] > 1e-9
        )
        batch = [-j for _, j in reversed(loss[-MIP_ROUND:])]
        if not batch:
            break
        tried.update(batch)
        mips = _run_all(
            _mip,
            [(part_list[i], shares[i], mip_rel_gap, mip_nodes) for i in batch],
            [part_list[i].row.size for i in batch],
            workers,
        )
        for i, (part_share, status, mip_bound) in zip(batch, mips, strict=True):
            shares[i], lps[i] = part_share, min(lps[i], mip_bound)
            values[i] = _part_value(part_list[i], part_share)
            statuses.add(f"whole part MIP: {status}")
    for edges, part_share in zip(pieces, shares, strict=True):
        share[edges] = part_share
    if not cut:
        return share, float(sum(lps)), " / ".join(sorted(statuses))
    hours = problem.hours * share
    load = np.asarray(
        np.bincount(problem.provider, weights=hours, minlength=problem.segments.shape[0]),
        dtype=np.float64,
    )
    left = remaining(problem.segments, load)
    placed = np.bincount(problem.request, weights=hours, minlength=n_requests)
    room = left.sum(axis=1)[problem.provider]
    retry = np.flatnonzero(
        (placed[problem.request] <= 1e-9)
        & (room >= np.where(problem.whole, problem.hours, 0.0) - 1e-9)
        & (room > 1e-9)
    )
    if retry.size:
        retry_share, _, status, _ = solve_part(_part(problem, retry, left), mip_rel_gap, mip_nodes)
        share[retry] = retry_share
        statuses.add(status)
    bound = best_bound(problem, [prices], plan_value(problem, share))
    return (
        share,
        bound,
        f"{len(pieces)} parts + {retry.size} pairs retried: " + " / ".join(sorted(statuses)),
    )


@dataclass(frozen=True)
class Part:
    """One solve's pairs, with requests and providers numbered from 0 within the part."""

    row: IntArray  # part-local request per pair
    column: IntArray  # part-local provider per pair
    hours: FloatArray
    value: FloatArray
    whole: BoolArray
    segments: FloatArray  # (providers in the part, 4) free hours per load segment


def _part(problem: Problem, edges: IntArray, segments: FloatArray) -> Part:
    _, row = np.unique(problem.request[edges], return_inverse=True)
    providers, column = np.unique(problem.provider[edges], return_inverse=True)
    return Part(
        row=row,
        column=column,
        hours=problem.hours[edges],
        value=problem.value[edges],
        whole=problem.whole[edges],
        segments=segments[providers],
    )


PartResult = tuple[FloatArray, float, str, FloatArray]
T = TypeVar("T")


def _run_all(
    task: Callable[..., T], jobs: Sequence[tuple[object, ...]], sizes: list[int], workers: int
) -> list[T]:
    """``task(*job)`` for each job, results in order, in ``workers`` threads at once.

    HiGHS releases the GIL while it solves and keeps its scheduler per calling
    thread, so separate solves in separate threads run in parallel.
    """
    if workers <= 1 or len(jobs) <= 1:
        return [task(*job) for job in jobs]
    # Largest first, so that no thread is left with a big part at the end.
    order = sorted(range(len(jobs)), key=lambda i: -sizes[i])
    with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="highs") as pool:
        futures = {i: pool.submit(task, *jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]


def _model(part: Part, integral: bool) -> highspy.HighsLp:
    """max sum value*z - sum cost*segment  s.t. each request <= 1, hours*z = segments used."""
    n_pairs, n_prov = part.row.size, part.segments.shape[0]
    n_req = int(part.row.max()) + 1 if n_pairs else 0
    k = _COSTS.size
    lp = highspy.HighsLp()
    lp.num_col_ = n_pairs + k * n_prov
    lp.num_row_ = n_req + n_prov
    lp.col_cost_ = np.concatenate([-part.value, np.tile(_COSTS, n_prov)])
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.concatenate([np.ones(n_pairs), part.segments.ravel()])
    lp.row_lower_ = np.concatenate([np.full(n_req, -highspy.kHighsInf), np.zeros(n_prov)])
    lp.row_upper_ = np.concatenate([np.ones(n_req), np.zeros(n_prov)])
    # Column-wise: a pair has its request row (1) and its provider row (hours); a
    # segment column has its provider row (-1).
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate(
        [np.arange(0, 2 * n_pairs, 2), 2 * n_pairs + np.arange(k * n_prov + 1)]
    )
    lp.a_matrix_.index_ = np.concatenate(
        [
            np.stack([part.row, n_req + part.column], axis=1).ravel(),
            n_req + np.repeat(np.arange(n_prov), k),
        ]
    ).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate(
        [np.stack([np.ones(n_pairs), part.hours], axis=1).ravel(), -np.ones(k * n_prov)]
    )
    if integral:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if w else highspy.HighsVarType.kContinuous
            for w in part.whole.tolist()
        ] + [highspy.HighsVarType.kContinuous] * (k * n_prov)
    return lp


def _highs(options: dict[str, bool | float | int | str]) -> highspy.Highs:
    """A silent HiGHS in one thread with a fixed seed (deterministic: see ``LP_ITERATIONS``)."""
    solver = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
    solver.silent()
    for name, value in {"threads": 1, "random_seed": SEED, **options}.items():
        solver.setOptionValue(name, value)
    return solver


def solve_part(part: Part, mip_rel_gap: float, mip_nodes: int = MIP_NODES) -> PartResult:
    """HiGHS on one part: (share per pair, LP bound, status, provider prices).

    The LP relaxation gives the bound and the prices. Relax-and-fix: the LP's
    integral part is kept and a small MIP places the requests it split (a
    greedy rounding of the LP is kept instead wherever that MIP is not
    better). ``solve`` then solves whole MIPs where the gap calls for them.
    """
    n_pairs = part.row.size
    # Presolve only slows these models down.
    lp = _highs({"presolve": "off", "simplex_iteration_limit": LP_ITERATIONS})
    lp.passModel(_model(part, integral=False))
    lp.run()
    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(
            f"HiGHS could not solve the relaxation: {lp.modelStatusToString(lp.getModelStatus())}"
        )
    solution = lp.getSolution()
    lp_share = np.clip(np.asarray(solution.col_value[:n_pairs]), 0.0, 1.0)
    lp_value = -float(lp.getInfo().objective_function_value)
    n_req = int(part.row.max()) + 1
    # The dual of a capacity row is what one more hour there would add.
    prices = np.maximum(-np.asarray(solution.row_dual[n_req:]), 0.0)
    share, status = _fix_and_solve(part, lp_share, mip_rel_gap, mip_nodes)
    return share, lp_value, status, prices


def _fix_and_solve(
    part: Part, lp_share: FloatArray, mip_rel_gap: float, mip_nodes: int
) -> tuple[FloatArray, str]:
    """Keep what the LP placed integrally; a small MIP places the requests it split."""
    n_req = int(part.row.max()) + 1
    status = "LP integral"
    fractional = part.whole & (lp_share > 1e-6) & (lp_share < 1 - 1e-6)
    open_request = np.zeros(n_req, dtype=bool)
    open_request[part.row[fractional]] = True
    open_pair = open_request[part.row] & part.whole
    # Splittable requests placed (by the LP) with a provider that a split whole
    # one could use may make room there by moving: free them too.
    near = np.zeros(part.segments.shape[0], dtype=bool)
    near[part.column[open_pair]] = True
    splittable = np.zeros(n_req, dtype=bool)
    splittable[part.row[~part.whole & near[part.column] & (lp_share > 1e-9)]] = True
    open_pair |= splittable[part.row]
    share = np.where(open_pair, 0.0, lp_share)
    share = np.where(part.whole & (share > 1 - 1e-6), 1.0, share)
    if open_pair.any():
        load = np.bincount(
            part.column, weights=part.hours * share, minlength=part.segments.shape[0]
        )
        edges = np.flatnonzero(open_pair)
        _, row = np.unique(part.row[edges], return_inverse=True)
        sub = Part(
            row=row,
            column=part.column[edges],
            hours=part.hours[edges],
            value=part.value[edges],
            whole=part.whole[edges],
            segments=remaining(part.segments, np.asarray(load, dtype=np.float64)),
        )
        start = _round(sub, lp_share[edges])
        share[edges], status, _ = _mip(sub, start, max(mip_rel_gap, FIX_GAP), mip_nodes)
        status = f"split requests: {status}"
    return share, status


def _mip(part: Part, start: FloatArray, gap: float, nodes: int) -> tuple[FloatArray, str, float]:
    """(plan, status, bound) of the MIP over ``part``; ``start`` when the MIP finds nothing better.

    The bound is HiGHS's dual bound on the MIP's optimum (inf when it has none).

    The start is not handed to HiGHS: HiGHS 1.16 can map a given start wrongly
    through presolve and return it as optimal (seen on a 4-pair model).
    """
    n_pairs = part.row.size
    mip = _highs({"mip_rel_gap": gap, "mip_max_nodes": nodes})
    mip.passModel(_model(part, integral=True))
    mip.run()
    status = mip.modelStatusToString(mip.getModelStatus())
    dual = float(mip.getInfo().mip_dual_bound)
    bound = -dual if np.isfinite(dual) else np.inf
    values = (
        np.asarray(mip.getSolution().col_value[:n_pairs]) if mip.getSolution().value_valid else None
    )
    if values is None:
        return start, f"{status}, LP rounded", bound
    share = np.clip(values, 0.0, 1.0)
    share = np.where(part.whole, np.round(share), share)
    if _part_value(part, share) < _part_value(part, start):
        return start, f"{status}, LP rounded", bound
    return share, status, bound


def _part_value(part: Part, share: FloatArray) -> float:
    load = np.bincount(part.column, weights=part.hours * share, minlength=part.segments.shape[0])
    used = part.segments - remaining(part.segments, np.asarray(load, dtype=np.float64))
    return float(part.value @ share - (used * _COSTS).sum())


def _round(part: Part, lp_share: FloatArray) -> FloatArray:
    """A feasible plan from LP shares: pairs by share, each request once, where room is left."""
    share = np.zeros(lp_share.size)
    room = part.segments.sum(axis=1)
    placed = np.zeros(int(part.row.max()) + 1 if part.row.size else 0)
    candidates = np.flatnonzero(lp_share > 1e-9)
    for e in candidates[np.argsort(-lp_share[candidates], kind="stable")].tolist():
        r, p = int(part.row[e]), int(part.column[e])
        if part.whole[e]:
            if placed[r] > 0 or room[p] < part.hours[e] - 1e-9:
                continue
            take = 1.0
        else:
            take = min(lp_share[e], 1.0 - placed[r], float(room[p]) / part.hours[e])
            if take <= 1e-9:
                continue
        share[e] = take
        placed[r] += take
        room[p] -= take * part.hours[e]
    return share


def parts(problem: Problem, n_requests: int, part_requests: int) -> tuple[list[IntArray], bool]:
    """Pair index sets solved separately, and whether any pair was cut away.

    Sizes count requests, not pairs: how a batch is split does not depend on
    how many candidates each request has, so more candidates only add pairs
    to the same parts (they never cause a cut that loses pairs).
    """
    n_pool = problem.segments.shape[0]
    graph = coo_array(
        (np.ones(problem.request.size), (problem.request, n_requests + problem.provider)),
        shape=(n_requests + n_pool, n_requests + n_pool),
    )
    _, label = connected_components(graph, directed=False)
    component = label[problem.request]
    requests_in = np.bincount(label[np.unique(problem.request)], minlength=label.max() + 1)
    sizes = np.bincount(component, minlength=label.max() + 1)
    result: list[IntArray] = []
    bundle: list[IntArray] = []
    bundled, cut = 0, False
    order = np.argsort(component, kind="stable")
    bounds = np.searchsorted(component[order], np.arange(sizes.size + 1))
    for c in np.flatnonzero(sizes).tolist():
        edges = order[bounds[c] : bounds[c + 1]]
        size = int(requests_in[c])
        if size > part_requests:
            result.extend(_cut(problem, edges, -(-size // part_requests)))
            cut = True
            continue
        if bundled + size > part_requests and bundle:
            result.append(np.concatenate(bundle))
            bundle, bundled = [], 0
        bundle.append(edges)
        bundled += size
    if bundle:
        result.append(np.concatenate(bundle))
    return result, cut


def _cut(problem: Problem, edges: IntArray, regions: int) -> list[IntArray]:
    """Split one component's pairs spatially into ``regions``; pairs across the cut are left out.

    Any number of regions (not only a power of two: the number grows smoothly
    with the size), by recursive bisection of the requests alternately by
    latitude and longitude, in proportion to the regions each side gets.
    """
    requests = np.unique(problem.request[edges])
    groups: list[IntArray] = []
    pending: list[tuple[IntArray, int, int]] = [(requests, regions, 0)]
    while pending:
        g, n, level = pending.pop()
        if n <= 1 or g.size <= 1:
            groups.append(g)
            continue
        key = problem.lat if level % 2 == 0 else problem.lon
        g = g[np.lexsort((g, key[g]))]
        half = n // 2
        at = g.size * half // n
        pending.append((g[at:], n - half, level + 1))
        pending.append((g[:at], half, level + 1))
    region = np.zeros(int(problem.request.max()) + 1, dtype=np.int64)
    for i, g in enumerate(groups):
        region[g] = i
    pair_region = region[problem.request[edges]]
    providers, column = np.unique(problem.provider[edges], return_inverse=True)
    weight = coo_array(
        (problem.hours[edges], (column, pair_region)), shape=(providers.size, len(groups))
    ).toarray()
    home = np.argmax(weight, axis=1)[column]
    kept = edges[home == pair_region]
    kept_region = pair_region[home == pair_region]
    return [kept[kept_region == i] for i in range(len(groups)) if np.any(kept_region == i)]
