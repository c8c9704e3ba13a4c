"""Batch assignment: requests x providers, HiGHS relax-and-fix against greedy.

The solve is also timed in one thread (the parts one after the other).

Prints wall times (candidate generation and solve separately), hours placed,
the gap to the LP relaxation bound, the gain over the first-come greedy
baseline, fairness figures and peak memory. Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import population  # noqa: E402
from bench_topk import peak_rss_mb  # noqa: E402

from matching.assignment import assign_batch, candidate_pairs, greedy_assign  # noqa: E402


def run(shapes: list[tuple[int, int, int]]) -> None:
    """One block of figures per (requests, providers, candidates per request)."""
    for n_requests, n_providers, per_request in shapes:
        pool = population.pool(n_providers)
        requests = population.requests(n_requests)
        started = time.perf_counter()
        pairs = candidate_pairs(pool, requests, per_request)
        plan = assign_batch(pool, requests, pairs)
        wall = time.perf_counter() - started
        serial = assign_batch(pool, requests, pairs, workers=1)
        greedy = greedy_assign(pool, requests, pairs)
        gain = plan.hours_placed - greedy.hours_placed
        print(
            f"{n_requests} requests x {n_providers} providers, top {per_request} candidates"
            f" ({pairs.request.size} pairs)"
        )
        print(
            f"  wall {wall:6.2f} s = candidates {pairs.seconds:6.2f} s + solve"
            f" {plan.solve_seconds:6.2f} s   [{plan.status}]"
        )
        print(
            f"  solve in one thread {serial.solve_seconds:6.2f} s (default: {plan.workers} threads)"
            f" | same plan: {serial.placements == plan.placements}"
        )
        print(
            f"  hours placed {plan.hours_placed:9.1f} of {plan.hours_requested:9.1f}"
            f" | greedy {greedy.hours_placed:9.1f} | gain {gain:+.1f} h"
            f" | urgency-weighted {plan.weighted_hours:.1f} vs {greedy.weighted_hours:.1f}"
        )
        print(
            f"  objective {plan.objective:.1f} | LP bound {plan.bound:.1f}"
            f" | gap {100 * (plan.gap or 0.0):.3f}%"
        )
        print(
            f"  fairness: top-10% share {plan.top10_share:.3f} (greedy {greedy.top10_share:.3f})"
            f" | Gini {plan.gini:.3f} (greedy {greedy.gini:.3f})"
            f" | peak RSS {peak_rss_mb():.0f} MB"
        )


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--quick`` for smaller sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        run([(500, 250, 30), (2_000, 1_000, 30)])
    else:
        run([(2_000, 1_000, 30), (20_000, 10_000, 10)])


if __name__ == "__main__":
    main()
