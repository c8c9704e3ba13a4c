"""Run every benchmark in sequence: ``python bench/run_all.py [--quick]``.

The matching benchmarks need nothing; the reports and payment-run benchmarks need
PostgreSQL (``DATABASE_URL``) and run only when it is set. Each prints its figures with
a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import bench_assignment  # noqa: E402
import bench_topk  # noqa: E402


def main() -> None:
    """Top-k latency, batch assignment, then (with PostgreSQL) reports and a payment run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    flags = ["--quick"] if args.quick else []
    print(f"python {platform.python_version()} on {platform.machine()}")
    started = time.perf_counter()
    bench_topk.main(flags)
    bench_assignment.main(flags)
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import bench_payment_run
        import bench_reports

        bench_reports.main(["--scale", "0.1"] if args.quick else [])
        bench_payment_run.main(
            ["--invoices", "500"] if args.quick else ["--invoices", "10000", "--concurrency", "4"]
        )
    else:
        print("reports and payment-run benchmarks skipped: set DATABASE_URL to a PostgreSQL server")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
