"""Top-20 for one request against 1k, 10k, 100k and 300k synthetic providers.

Per size: the median and p99 CPU time of ``top_k`` over 200 requests (and the
median with the pruning turned off, to show where it pays), against a fair
plain-Python loop (``fair_loop.py``: providers prepared once, cheap checks
first, a heap) timed on the same 200 requests, and the test reference loop
(written to be obviously right, not fast) on a few. Checks that the fair loop
ranks the same providers. Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "matching")]

import population  # noqa: E402
from fair_loop import FairLoop  # noqa: E402
from matching_reference import ranking  # noqa: E402

from matching import scoring  # noqa: E402
from matching.pool import ProviderPool  # noqa: E402
from matching.scoring import Weights, top_k  # noqa: E402

K = 20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_ms(call: object, requests: list) -> np.ndarray:
    times = []
    for request in requests:
        started = time.process_time()
        call(request)  # type: ignore[operator]
        times.append(time.process_time() - started)
    return np.array(times) * 1000


def run(sizes: list[int], n_requests: int, national: bool = False) -> None:
    """Time top-k at each pool size and print one line per size."""
    requests = population.requests(n_requests, seed=7, national=national)
    weights = Weights()
    where = "spread over GB's outcodes (a national directory)" if national else "all in Bristol"
    print(
        f"top-{K}, {n_requests} requests per size, CPU time per request, providers {where}"
        " (fair loop: plain Python, providers prepared once, timed on the same requests)"
    )
    previous = None
    for size in sizes:
        records = population.providers(size, national=national)
        started = time.perf_counter()
        pool = ProviderPool.build(
            records, regulated_services=population.REGULATED, services=population.SERVICES
        )
        top_k(pool, requests[0], K)  # builds the per-pool index
        build = time.perf_counter() - started
        ms = _cpu_ms(lambda r, pool=pool: top_k(pool, r, K), requests)
        with mock.patch.object(scoring, "PRUNE_MIN_ROWS", 10**12):
            unpruned = _cpu_ms(lambda r, pool=pool: top_k(pool, r, K), requests)
        loop = FairLoop(records, population.REGULATED)
        loop_ms = _cpu_ms(lambda r, loop=loop: loop.top_k(r, K, weights), requests)
        same = sum(
            [s.provider_id for s in top_k(pool, r, K)] == [x for x, _ in loop.top_k(r, K, weights)]
            for r in requests
        )
        reference_requests = requests[: max(1, min(10, 50_000 // size))]
        reference_ms = _cpu_ms(
            lambda r, records=records: ranking(records, r, population.REGULATED, weights, K),
            reference_requests,
        )
        median = float(np.median(ms))
        growth = (
            ""
            if previous is None
            else (f" | x{median / previous[1]:.1f} time for x{size / previous[0]:.0f} providers")
        )
        print(
            f"  {size:>7} providers: build {build:6.2f} s | top-{K} median {median:6.2f} ms"
            f" p99 {np.percentile(ms, 99):6.2f} ms (no pruning: median {np.median(unpruned):6.2f})"
            f" | fair loop {np.median(loop_ms):8.1f} ms: x{np.median(loop_ms) / median:5.0f}"
            f" (same top-{K}: {same}/{len(requests)})"
            f" | reference {np.median(reference_ms):8.1f} ms ({len(reference_requests)} req):"
            f" x{np.median(reference_ms) / median:5.0f}{growth} | peak RSS {peak_rss_mb():5.0f} MB"
        )
        previous = (size, median)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--quick`` for smaller sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        run([1_000, 10_000], 200)
    else:
        run([1_000, 10_000, 100_000, 300_000], 200)
        run([300_000], 200, national=True)


if __name__ == "__main__":
    main()
