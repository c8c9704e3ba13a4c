"""What a new care request's POST costs, part by part: ``python bench/post_parts.py``.

The WSGI apps are called directly, in this one process, one request at a time (no HTTP,
no gunicorn, no load generator), so the CPU and wall time per request are the apps' own:

- the stack's least write (``FLOOR_WRITE_APP`` of ``bench/api_reads.py``: the fair
  baseline of its POST row);
- the API's ``POST /care-seekers/{id}/care-requests``;
- the same POST with one part switched off in turn: its audit entry (``record``, so no
  append to the chain at commit), then its wake's ``SET NX`` (``JobRunner.dispatch``).

Variants take turns in every round, and each figure is the median over the rounds. The
difference a switched-off part makes is what that part costs the POST. Needs PostgreSQL
(``DATABASE_URL``) and Redis (``REDIS_URL``); the data set is ``api_reads``'s, built in a
scratch database dropped afterwards. Where a wake of the agency is waiting (no worker
reads this run's queue), each POST's dispatch is one ``SET NX`` that finds it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import api_reads  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from agency import create_app  # noqa: E402
from agency.jobs.queue import JobRunner  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402


def _switched_off(target: str) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    return lambda: mock.patch(target, lambda *args, **kwargs: None)


@contextlib.contextmanager
def _as_is() -> Iterator[None]:
    yield


def _no_wake() -> contextlib.AbstractContextManager[Any]:
    return mock.patch.object(JobRunner, "dispatch", lambda *args, **kwargs: None)


def _timed(app: Any, environs: list[dict[str, Any]]) -> tuple[float, float]:
    """(CPU ms, wall ms) per request of ``app`` answering each environ; each must be 201."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    cpu, wall = time.process_time(), time.perf_counter()
    for environ in environs:
        body = app(environ, start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    refused = [status for status in statuses if not status.startswith("201")]
    if refused:
        raise SystemExit(f"{len(refused)} requests not created: {refused[:3]}")
    return cpu * 1000 / len(environs), wall * 1000 / len(environs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("needs PostgreSQL: set DATABASE_URL")
    redis_url = api_reads.redis_for_posts()
    if redis_url is None:
        raise SystemExit("needs Redis: set REDIS_URL")
    url, drop = scratch_database()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        upgrade(url)
        creds = api_reads.populate(url, args.providers, 64)
        api_reads.create_floor_write_table(url)
        os.environ.update(
            {"DATABASE_URL": url, "REDIS_URL": redis_url, "RQ_QUEUE": prefix,
             "LOG_LEVEL": "WARNING", "FLOOR_DATABASE_URL": url, "FLOOR_QUEUE": prefix}
        )  # fmt: skip
        floor: dict[str, Any] = {"__name__": "floor_write"}
        exec(api_reads.FLOOR_WRITE_APP, floor)  # noqa: S102 (the bench's own source)
        api = create_app()
        variants = [
            ("the stack's least write", floor["app"], _as_is),
            ("POST", api, _as_is),
            ("POST, no audit entry", api, _switched_off("agency.seekers.requests_service.record")),
            ("POST, no wake (SET NX)", api, _no_wake),
        ]
        body, seekers = api_reads.new_request_body(), creds["post_seekers"]
        headers = {"X-API-Key": creds["partner_key"], "Content-Type": "application/json"}

        def environs(n: int) -> list[dict[str, Any]]:
            return [
                EnvironBuilder(
                    method="POST",
                    path=f"/care-seekers/{seekers[i % len(seekers)]}/care-requests",
                    data=body,
                    headers=headers,
                ).get_environ()
                for i in range(n)
            ]

        for _, app, switch in variants:  # warm up: imports, pools, prepared statements
            with switch():
                _timed(app, environs(200))
        figures: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in variants}
        for _ in range(args.rounds):
            for label, app, switch in variants:
                batch = environs(args.requests)
                with switch():
                    figures[label].append(_timed(app, batch))
        print(
            f"\n{args.providers} providers, {args.rounds} rounds of {args.requests} requests "
            f"per variant, in one process (no HTTP); load average {os.getloadavg()[0]:.1f}"
        )
        row = "{:28} {:>8} {:>8} {:>12} {:>13}"
        print(row.format("variant", "cpu ms", "wall ms", "cpu vs POST", "wall vs POST"))
        post_cpu = statistics.median(c for c, _ in figures["POST"])
        post_wall = statistics.median(w for _, w in figures["POST"])
        for label, runs in figures.items():
            cpu = statistics.median(c for c, _ in runs)
            wall = statistics.median(w for _, w in runs)
            print(row.format(label, f"{cpu:.2f}", f"{wall:.2f}", f"{cpu - post_cpu:+.2f}",
                             f"{wall - post_wall:+.2f}"))  # fmt: skip
    finally:
        api_reads.empty_queues(redis_url, prefix)
        drop()


if __name__ == "__main__":
    main()
