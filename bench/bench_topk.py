"""Top-20 latency for one request against 1k, 10k and 100k synthetic providers.

Prints median and p99 over many requests, and the speed-up over the plain
Python reference loop (tests/matching/matching_reference.py) timed in the same
run on fewer requests. Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "matching")]

import population  # noqa: E402
from matching_reference import ranking  # noqa: E402

from matching.scoring import Weights, top_k  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(sizes: list[int], n_requests: int) -> None:
    """Time top-20 at each pool size and print one line per size."""
    requests = population.requests(n_requests, seed=7)
    print(f"top-20, {n_requests} requests per size")
    for size in sizes:
        records = population.providers(size)
        started = time.perf_counter()
        pool = population.pool(size)
        build = time.perf_counter() - started
        top_k(pool, requests[0], 20)  # warm caches
        times = []
        for request in requests:
            started = time.perf_counter()
            top_k(pool, request, 20)
            times.append(time.perf_counter() - started)
        loop_requests = requests[: max(2, min(20, 200_000 // size))]
        started = time.perf_counter()
        for request in loop_requests:
            ranking(records, request, population.REGULATED, Weights(), 20)
        loop = (time.perf_counter() - started) / len(loop_requests)
        ms = np.array(times) * 1000
        print(
            f"  {size:>7} providers: build {build:6.2f} s | top-20 median {np.median(ms):6.2f} ms"
            f" p99 {np.percentile(ms, 99):6.2f} ms | python loop {loop * 1000:8.1f} ms"
            f" ({len(loop_requests)} req) | speed-up x{loop / np.median(times):6.0f}"
            f" | peak RSS {peak_rss_mb():6.0f} MB"
        )


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--quick`` for smaller sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        run([1_000, 10_000], 50)
    else:
        run([1_000, 10_000, 100_000], 200)


if __name__ == "__main__":
    main()
