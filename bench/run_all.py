"""Run every benchmark in sequence: ``python bench/run_all.py [--quick]``."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import bench_assignment  # noqa: E402
import bench_topk  # noqa: E402


def main() -> None:
    """Top-k latency first, then batch assignment."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    flags = ["--quick"] if args.quick else []
    print(f"python {platform.python_version()} on {platform.machine()}")
    started = time.perf_counter()
    bench_topk.main(flags)
    bench_assignment.main(flags)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
