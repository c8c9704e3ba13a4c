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
# Work limits, never wall-clock ones: the same input gives the same plan on an idle
# or a loaded machine. Each HiGHS solve runs in one thread with a fixed seed.
LP_ITERATIONS = 5_000_000  # simplex iterations of one LP (far above what a part takes)
MIP_NODES = 2_000  # branch-and-bound nodes of one MIP
IMPROVE_PASSES = 5  # passes of moves of whole requests after the dive
IMPROVE_MIN = 1e-7  # a move must gain more than this (far below a load cost step)
DIVE_ROUNDS = 50  # LP re-solves of one part's dive (each fixes many pairs; ~10 needed)
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

    1. Each part by its LP, then an LP dive and a greedy fill (``solve_part``).
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

    The LP relaxation gives the bound and the prices; then an LP dive
    (``_dive``) on the same model makes the whole requests integral, a
    greedy pass (``_fill``) gives what room is left to requests still
    unplaced, and ``_improve`` moves whole requests where that gains.
    ``solve`` then solves whole MIPs where the gap calls for them.
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
    share, rounds = _dive(part, lp, lp_share)
    share = _improve(part, _fill(part, share))
    return share, lp_value, "LP integral" if rounds == 0 else "LP dive", prices


def _dive(part: Part, lp: highspy.Highs, lp_share: FloatArray) -> tuple[FloatArray, int]:
    """(plan, rounds): whole requests made integral by fixing pairs and re-solving the LP.

    Each round fixes, for as many requests the LP splits as fit, their
    largest-share pair to 1 (a provider takes no more than the hours the LP
    gave it, or when nothing fits so, than its capacity holds beside the
    requests it already has whole), then re-solves from the last
    basis (a few simplex iterations). At most ``DIVE_ROUNDS`` rounds; whole
    requests still split at the end are left out (``_fill`` may place them).
    Every LP solved is feasible (a fix never exceeds a capacity), so the plan is.
    """
    n_pairs = part.row.size
    capacity = part.segments.sum(axis=1)
    share, rounds = lp_share, 0
    while rounds < DIVE_ROUNDS:
        split = np.flatnonzero(part.whole & (share > 1e-6) & (share < 1 - 1e-6))
        if split.size == 0:
            break
        whole = np.flatnonzero(part.whole & (share >= 1 - 1e-6))
        held = np.bincount(part.column[whole], weights=part.hours[whole], minlength=capacity.size)
        # First within the hours the LP gave each provider (so the load stays spread as
        # the LP spread it), else within capacity.
        lp_load = np.bincount(part.column, weights=part.hours * share, minlength=capacity.size)
        fix = _fixes(part, split, share, np.asarray(lp_load - held, dtype=np.float64))
        if not fix:
            fix = _fixes(part, split, share, np.asarray(capacity - held, dtype=np.float64))
        if not fix:
            break
        rounds += 1
        columns = np.array(fix, dtype=np.int32)
        ones = np.ones(columns.size)
        lp.changeColsBounds(columns.size, columns, ones, ones)
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break  # keep the last optimal (feasible) solution
        share = np.clip(np.asarray(lp.getSolution().col_value[:n_pairs]), 0.0, 1.0)
    integral = np.where(share >= 1 - 1e-6, 1.0, 0.0)
    return np.where(part.whole, integral, share), rounds


def _fixes(part: Part, split: IntArray, share: FloatArray, room: FloatArray) -> list[int]:
    """Largest shares first: each split request's pair that fits in ``room``, one per request."""
    room = room.copy()
    fix: list[int] = []
    done: set[int] = set()
    for e in split[np.argsort(-share[split], kind="stable")].tolist():
        r, p = int(part.row[e]), int(part.column[e])
        if r in done or room[p] < part.hours[e] - 1e-9:
            continue
        done.add(r)
        room[p] -= part.hours[e]
        fix.append(e)
    return fix


def _load_cost(segments: FloatArray, load: FloatArray) -> FloatArray:
    """The load cost of each provider (row of ``segments``) at ``load`` hours, cheapest first."""
    start = np.cumsum(segments, axis=1) - segments
    used = np.clip(load[:, None] - start, 0.0, segments)
    cost: FloatArray = used @ _COSTS
    return cost


def _improve(part: Part, share: FloatArray) -> FloatArray:
    """The plan, whole requests moved to another candidate where that raises its value.

    Rounding an LP leaves some loads uneven where the LP did not care; a move
    gains the pairs' value difference plus the load cost it saves. Candidate
    moves are found at once, then made best first, each re-checked against the
    loads as they are by then (``IMPROVE_PASSES`` passes at most).
    """
    share = share.copy()
    n_req = int(part.row.max()) + 1
    capacity = part.segments.sum(axis=1)
    for _ in range(IMPROVE_PASSES):
        load: FloatArray = np.asarray(
            np.bincount(part.column, weights=part.hours * share, minlength=capacity.size),
            dtype=np.float64,
        )
        placed = np.full(n_req, -1)
        whole_placed = np.flatnonzero(part.whole & (share > 0.5))
        placed[part.row[whole_placed]] = whole_placed
        src = placed[part.row]
        alt = np.flatnonzero((src >= 0) & (part.column != part.column[np.maximum(src, 0)]))
        if alt.size == 0:
            break
        p, q, h = part.column[src[alt]], part.column[alt], part.hours[alt]
        gain = (
            part.value[alt]
            - part.value[src[alt]]
            - (_load_cost(part.segments[q], load[q] + h) - _load_cost(part.segments[q], load[q]))
            + (_load_cost(part.segments[p], load[p]) - _load_cost(part.segments[p], load[p] - h))
        )
        good = np.flatnonzero((gain > IMPROVE_MIN) & (load[q] + h <= capacity[q] + 1e-9))
        if good.size == 0:
            break
        moved = 0
        for i in good[np.argsort(-gain[good], kind="stable")].tolist():
            e, f = int(src[alt[i]]), int(alt[i])
            if share[e] < 0.5:  # the request moved already in this pass
                continue
            a, b, hours = int(part.column[e]), int(part.column[f]), float(part.hours[f])
            if load[b] + hours > capacity[b] + 1e-9:
                continue
            before = np.array([load[a], load[b]])
            after = before + np.array([-hours, hours])
            rows = np.array([a, b])
            saved = float(_load_cost(part.segments[rows], before).sum()) - float(
                _load_cost(part.segments[rows], after).sum()
            )
            if part.value[f] - part.value[e] + saved <= IMPROVE_MIN:
                continue
            share[e], share[f] = 0.0, 1.0
            load[a], load[b] = after
            moved += 1
        if moved == 0:
            break
    return share


def _fill(part: Part, share: FloatArray) -> FloatArray:
    """The plan, then each request not wholly placed takes room left with its candidates.

    Pairs in order of value per hour (urgency first, then quality); a whole
    request only where it fits entirely, a splittable one what room there is.
    """
    share = share.copy()
    load = np.bincount(part.column, weights=part.hours * share, minlength=part.segments.shape[0])
    room = part.segments.sum(axis=1) - load
    placed = np.bincount(part.row, weights=share, minlength=int(part.row.max()) + 1)
    open_pairs = np.flatnonzero(placed[part.row] < 1 - 1e-9)
    order = open_pairs[np.argsort(-part.value[open_pairs] / part.hours[open_pairs], kind="stable")]
    for e in order.tolist():
        r, p = int(part.row[e]), int(part.column[e])
        if part.whole[e]:
            if placed[r] > 0 or room[p] < part.hours[e] - 1e-9:
                continue
            take = 1.0
        else:
            take = min(1.0 - placed[r], float(room[p]) / part.hours[e])
            if take <= 1e-9:
                continue
        share[e] += take
        placed[r] += take
        room[p] -= take * part.hours[e]
    return share


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
