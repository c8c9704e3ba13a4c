"""Batch assignment in the production setting, against greedy with the same candidates.

The re-plan (``agency/introductions/replan.py``) uses ``REPLAN_CANDIDATES`` (30)
candidates per request and the agency's weights (the defaults unless the agency
sets its own); this benchmark runs at that k with the default weights, and at
k = 10 and 50 for comparison. Per run: pairs, wall and CPU time (candidates +
solve), the gap to a valid upper bound, hours placed, urgency-weighted hours,
Gini of hours over candidate providers, continuity (share of placed requests
served by a single provider), each beside greedy on the same candidates, and
the peak memory of the run. "1 thread" re-solves in one thread (at k = 30, up to
20k requests) and says whether the plan is identical (it must not depend on
threads). Figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import population  # noqa: E402

from matching.assignment import assign_batch, candidate_pairs, greedy_assign  # noqa: E402
from matching.scoring import Weights  # noqa: E402

PRODUCTION_K = 30  # agency.introductions.replan.REPLAN_CANDIDATES (not imported: no Flask here)


def reset_peak_rss() -> None:
    """Start a new peak-memory measurement (Linux: clear_refs 5 resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), or of the whole process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


HEADER = (
    "  shape            k   pairs | wall s (cand+solve) | CPU s (cand+solve) |  gap %"
    " | hours placed (greedy)  | urgency-weighted (greedy) | Gini (greedy) | one provider (greedy)"
    " | peak MB | 1 thread"
)


def run(shapes: list[tuple[int, int, list[int]]], check_threads: bool) -> None:
    """One line per (requests, providers, k)."""
    print("batch assignment, default (production) weights; optimised vs greedy on the same pairs")
    print(HEADER)
    weights = Weights()
    for n_requests, n_providers, ks in shapes:
        pool = population.pool(n_providers)
        requests = population.requests(n_requests)
        for k in ks:
            reset_peak_rss()
            pairs = candidate_pairs(pool, requests, k, weights)
            plan = assign_batch(pool, requests, pairs)
            greedy = greedy_assign(pool, requests, pairs)
            peak = peak_rss_mb()
            same = "-"
            if check_threads and k == PRODUCTION_K and n_requests <= 20_000:
                one = assign_batch(pool, requests, pairs, workers=1)
                same = f"same: {one.placements == plan.placements}"
            wall = pairs.seconds + plan.solve_seconds
            cpu = pairs.cpu_seconds + plan.solve_cpu_seconds
            shape = f"{n_requests // 1000}k x {n_providers // 1000}k"
            print(
                f"  {shape:<14} {k:>3} {pairs.request.size:>7} |"
                f" {wall:6.1f} ({pairs.seconds:4.1f}+{plan.solve_seconds:5.1f}) |"
                f" {cpu:6.1f} ({pairs.cpu_seconds:4.1f}+{plan.solve_cpu_seconds:5.1f}) |"
                f" {100 * (plan.gap or 0.0):6.3f}"
                f" | {plan.hours_placed:9.1f} ({greedy.hours_placed:9.1f})"
                f" | {plan.weighted_hours:10.1f} ({greedy.weighted_hours:10.1f})"
                f"    | {plan.gini:.3f} ({greedy.gini:.3f})"
                f" | {plan.single_provider_share:.3f} ({greedy.single_provider_share:.3f})"
                f"         | {peak:7.0f} | {same}"
            )
            sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--quick`` for smaller sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        run([(500, 250, [10, 30, 50]), (2_000, 1_000, [10, 30, 50])], check_threads=True)
    else:
        run(
            [
                (2_000, 1_000, [10, 30, 50]),
                (20_000, 10_000, [10, 30, 50]),
                (40_000, 20_000, [30]),
            ],
            check_threads=True,
        )


if __name__ == "__main__":
    main()
