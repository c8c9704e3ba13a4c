"""A match job at a council's scale: the stored pool against the ORM-built one, same run.

Builds an agency of ``--providers`` (10,000 by default) providers by bulk INSERT in a
scratch database (PostgreSQL when DATABASE_URL is set, else SQLite), then measures:

- ``pool from ORM objects``: the old path (agency.introductions.pools.PoolLoader);
- ``pool from stored arrays``: the new path, warm (agency.introductions.pool_cache);
- ``rebuild after a change``: the new path right after a change to the whole agency;
- ``patch after a provider change``: the new path right after one provider's change
  (capacity) bumped it: the stored arrays patched with that provider's rows
  (agency.introductions.pool_patch);
- ``match job end to end``: a recorded match job run through the job runner (inline:
  mark started, load the request and pool, rank, replace 20 suggestions, commit, finish),
  with the pool current, then right after one provider's change, and the same job with
  the old pool path, for comparison;
- ``through agency-worker``: ``--worker-jobs`` match jobs for as many new requests queued in
  Redis (``REDIS_URL``, default redis://127.0.0.1:6379/0, under a queue name of the bench's
  own) and drained by ``agency-worker --burst --queues matching`` started as deployed (a
  fresh interpreter): jobs per second from the first job's start to the last one's end in
  their rows, and to the end of RQ's last delivery (the jobs go as wakes of their agency,
  each ranking a batch: agency.jobs.queue.JobRunner.dispatch,
  agency.introductions.match_batch), how many jobs were ranked in batches, the median
  job as its row records it, and what RQ's deliveries cost;
- ``at a rate``: ``--rate`` (30) new requests per second for ``--rate-seconds`` (20), each
  inserted with its job and queued after its commit as the API does (with
  ``--change-every N``, a provider's change before every Nth, which queues a re-match of
  the agency's open requests), against ``agency-worker --queues matching`` already
  running: the lag from each request's commit to its job's end (the issue's "one worker
  keeps up with 30 new requests/s").

Prints the median of ``--runs`` runs of each, and how many match jobs per second one
worker clears at that figure. Usage:
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/bench_match_job.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from agency import create_app  # noqa: E402
from agency.config import Settings  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from bench.api_reads import empty_queues  # noqa: E402  (the queues' cleanup, shared)
from bench.scratch import scratch_database  # noqa: E402

OUTCODES = ["BS1", "BS2", "BS3", "BS4", "BS5", "BS6", "BS7", "BS8", "BS9", "BS10", "BS13"]
SERVICES = ["companionship", "shopping_errands", "meal_preparation", "domestic_help"]


def populate(session, n: int) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """``n`` providers of one agency (90 % approved, in date; a few away) by bulk INSERT."""
    import matching
    from agency.accounts.models import User
    from agency.directory.models import Agency, Council
    from agency.providers.models import (
        AvailabilityException,
        ComplianceItem,
        Provider,
        ProviderListing,
        ProviderService,
    )
    from agency.schedule import mask_to_hex, windows_to_mask
    from tests.factories import make_care_request, make_partner, make_seeker

    rng = random.Random(7)
    council = {"id": "cnc_bench", "name": "Bench council", "slug": "bench"}
    agency = {"id": "agy_bench", "council_id": council["id"], "name": "Bench", "slug": "bench"}
    shapes = [
        [{"weekday": d, "start": start, "end": end} for d in range(5)]
        for start, end in (("08:00", "13:00"), ("09:00", "17:00"), ("12:00", "18:00"))
    ]
    masks = [mask_to_hex(windows_to_mask(w, "w")) for w in shapes]
    table = matching.outcode_table()
    rows: dict[type, list[dict[str, object]]] = {
        m: [] for m in (User, Provider, ProviderListing, ProviderService, ComplianceItem)
    }
    rows[AvailabilityException] = []
    for i in range(n):
        pid, uid = f"prv_bench{i:019d}", f"usr_bench{i:019d}"
        outcode = rng.choice(OUTCODES)
        lat, lon = table.latlon(outcode)
        shape = rng.randrange(len(shapes))
        rows[User].append({"id": uid, "email": f"p{i}@bench.test", "password_hash": "x",
                           "role": "provider"})  # fmt: skip
        rows[Provider].append(
            {"id": pid, "user_id": uid, "trading_name": f"Provider {i:05d}",
             "organisation_type": "sole_trader", "size": "sole_trader", "sector": "private",
             "base_outcode": outcode, "lat": lat + rng.uniform(-0.01, 0.01),
             "lon": lon + rng.uniform(-0.01, 0.01), "locality": "council_area",
             "locality_basis": "bench", "travel_radius_km": rng.choice([3.0, 5.0, 8.0]),
             "languages": ["en"] + (["pl"] if i % 11 == 0 else []), "skills": [],
             "capacity_hours_per_week": rng.choice([10.0, 20.0, 30.0]),
             "weekly_availability": shapes[shape], "availability_mask": masks[shape]}
        )  # fmt: skip
        rows[ProviderListing].append(
            {"id": f"lst_bench{i:019d}", "provider_id": pid, "agency_id": agency["id"],
             "council_id": council["id"], "status": "approved" if i % 10 else "applied"}
        )  # fmt: skip
        for key in rng.sample(SERVICES, rng.randint(1, 3)):
            rows[ProviderService].append(
                {"provider_id": pid, "service_key": key, "rate_pence": rng.choice([1700, 1900])}
            )
        for kind in ("dbs", "insurance"):
            rows[ComplianceItem].append(
                {"id": f"cmp_{kind[:3]}{i:019d}", "provider_id": pid, "kind": kind,
                 "evidence_reference": "x", "issued_on": dt.date(2024, 1, 1),
                 "expires_on": dt.date(2030, 1, 1), "status": "verified"}
            )  # fmt: skip
        if i % 25 == 0:
            rows[AvailabilityException].append(
                {"id": f"avx_bench{i:019d}", "provider_id": pid, "reason": "holiday",
                 "starts_on": dt.date(2026, 12, 20), "ends_on": dt.date(2027, 1, 3)}
            )  # fmt: skip
    started = time.perf_counter()
    with session.begin():
        session.execute(insert(Council), [council])
        session.execute(insert(Agency), [agency])
        for model, batch in rows.items():
            for start in range(0, len(batch), 2000):
                session.execute(insert(model), batch[start : start + 2000])
    loaded = time.perf_counter() - started
    agency_row = session.get(Agency, agency["id"])
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    care_request = make_care_request(
        session, seeker, agency_row, services=["companionship"], max_rate_pence=2000
    )
    if session.get_bind().dialect.name == "postgresql":
        with session.begin():
            session.execute(text("ANALYZE"))
    print(f"data set: {n} providers in {loaded:.1f} s (bulk INSERTs)")
    return agency_row, care_request


def median_ms(function, runs: int) -> float | None:  # type: ignore[no-untyped-def]
    """The median of ``runs`` timed calls; None (a row not printed) for ``--old-runs 0``."""
    if runs <= 0:
        return None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--old-runs", type=int, default=3)
    parser.add_argument(
        "--worker-jobs", type=int, default=300, help="jobs drained by agency-worker (0: none)"
    )
    parser.add_argument(
        "--rate", type=float, default=30.0, help="new requests/s against a running worker (0: none)"
    )
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument(
        "--change-every",
        type=int,
        default=0,
        help="a provider's change before every Nth request (0: none); each queues a re-match "
        "of the agency's open requests",
    )
    args = parser.parse_args(argv)

    import agency.introductions.match_jobs as match_jobs
    from agency.introductions.match_triggers import provider_inputs_changed
    from agency.introductions.pool_cache import AgencyPools
    from agency.introductions.pools import PoolLoader, london_today

    url, drop = scratch_database()
    try:
        upgrade(url)
        settings = Settings(database_url=url, redis_url=None, log_level="WARNING")
        app = create_app(replace(settings))
        session = app.extensions["agency"].sessionmaker()
        agency, care_request = populate(session, args.providers)
        day = care_request.start_date
        session.close()

        def fresh():  # type: ignore[no-untyped-def]
            return app.extensions["agency"].sessionmaker()

        def old_pool() -> None:
            with fresh() as s:
                PoolLoader(s, agency.id).pool(day)

        def stored_pool() -> None:
            with fresh() as s:
                AgencyPools(s, agency.id, london_today()).pool(day)

        def rebuilt_pool() -> None:
            with fresh() as s:
                provider_inputs_changed(s, agency_ids=[agency.id])
                s.commit()
            stored_pool()

        from agency.providers.models import Provider

        changed = iter(range(10**6))

        def one_provider_changes() -> None:
            with fresh() as s:
                provider = s.get(Provider, f"prv_bench{next(changed) % args.providers:019d}")
                provider.capacity_hours_per_week = provider.capacity_hours_per_week % 30 + 1
                s.commit()  # the flush hook logs this provider with the new generation

        def after_a_change(function):  # type: ignore[no-untyped-def]
            def timed() -> float:  # the change is committed first, outside the timing
                times = []
                for _ in range(args.runs):
                    one_provider_changes()
                    started = time.perf_counter()
                    function()
                    times.append((time.perf_counter() - started) * 1000)
                return statistics.median(times)

            return timed

        def job() -> None:
            with fresh() as s, app.app_context():
                match_jobs.enqueue_match(s, s.get(type(care_request), care_request.id))
                s.commit()  # the runner is inline: the job runs here, after commit

        stored_pool()  # the first job of the day builds and stores the arrays
        figures = {
            "pool from ORM objects (old)": median_ms(old_pool, args.old_runs),
            "pool from stored arrays (new)": median_ms(stored_pool, args.runs),
            "rebuild after a whole-agency change": median_ms(rebuilt_pool, args.old_runs),
            "patch after one provider's change": after_a_change(stored_pool)(),
            "match job end to end (new)": median_ms(job, args.runs),
            "match job after one provider's change": after_a_change(job)(),
        }

        class OldPath(PoolLoader):
            generation = 0  # the old path kept no generations: the job records none (0)

        original = match_jobs.AgencyPools
        match_jobs.AgencyPools = lambda s, agency_id, today: OldPath(s, agency_id)  # type: ignore[assignment,misc]
        try:
            figures["match job end to end (old pool path)"] = median_ms(job, args.old_runs)
        finally:
            match_jobs.AgencyPools = original  # type: ignore[misc]
        with fresh() as s:
            from agency.introductions.models import Suggestion

            kept = s.scalar(
                text("SELECT count(*) FROM suggestions WHERE care_request_id = :r"),
                {"r": care_request.id},
            )
            assert kept and kept <= 1 + 2 * match_jobs.SUGGESTIONS_KEPT, kept
            del Suggestion
        print(f"\n{args.providers} providers, {url.split(':', 1)[0]}; median ms")
        for name, value in figures.items():
            if value is not None:
                print(f"  {name:<40} {value:9.1f} ms   {1000 / value:7.1f} /s")
        print(f"  suggestions kept for the request after all runs: {kept}")
        if args.worker_jobs:
            through_the_worker(app, settings, agency, args.worker_jobs)
        if args.rate:
            at_a_rate(settings, agency, args.providers, args.rate, args.rate_seconds,
                      args.change_every)  # fmt: skip
    finally:
        drop()


def _worker_queue(settings):  # type: ignore[no-untyped-def]
    """(redis_url, queue prefix, an app whose jobs go there, its sessionmaker), or None."""
    from redis import Redis

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if not settings.database_url.startswith("postgresql"):
        print("\nthrough agency-worker: skipped (needs DATABASE_URL on PostgreSQL)")
        return None
    try:
        Redis.from_url(redis_url).ping()
    except Exception as error:  # noqa: BLE001 - say why the rows are missing, then go on
        print(f"\nthrough agency-worker: skipped (Redis at {redis_url}: {error})")
        return None
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    queued = create_app(replace(settings, redis_url=redis_url, queue_name=prefix))
    return redis_url, prefix, queued, queued.extensions["agency"].sessionmaker


def _seekers(make, n: int) -> list:  # type: ignore[no-untyped-def]
    from tests.factories import make_partner, make_seeker

    with make() as s:
        partner, _ = make_partner(s)
        return [make_seeker(s, partner.id) for _ in range(n)]


def _new_request(s, seeker, agency):  # type: ignore[no-untyped-def]
    """A care request built to be inserted with its match job, as the API does."""
    from tests.factories import make_care_request

    return make_care_request(s, s.merge(seeker), s.merge(agency), add=False,
                             services=["companionship"], max_rate_pence=2000)  # fmt: skip


def _worker_command(redis_url: str, prefix: str, settings, *args: str):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url,
           "RQ_QUEUE": prefix, "LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [str(Path(sys.executable).with_name("agency-worker")), *args]
    if os.environ.get("BENCH_WORKER_PREFIX"):  # e.g. a profiler: "py-spy record ... --"
        command = os.environ["BENCH_WORKER_PREFIX"].split() + command
    return command, env


def _rows(make, job_ids):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from agency.jobs.models import JobRecord

    with make() as s:
        return s.execute(
            select(JobRecord.id, JobRecord.status, JobRecord.created_at, JobRecord.started_at,
                   JobRecord.ended_at, JobRecord.result).where(JobRecord.id.in_(job_ids))
        ).all()  # fmt: skip


def _batched(rows) -> str:  # type: ignore[no-untyped-def]
    """How many jobs another match job ranked with its own (agency.introductions.match_batch)."""
    leaders = {r.result["ranked_with"] for r in rows if r.result and "ranked_with" in r.result}
    claimed = sum(1 for r in rows if r.result and "ranked_with" in r.result)
    if not claimed:
        return "no job ranked in another's batch"
    return (f"{claimed} of {len(rows)} ranked in another job's batch, by {len(leaders)} jobs "
            f"(batches of {1 + claimed / len(leaders):.1f} on average)")  # fmt: skip


def _deliveries(redis_url: str, prefix: str):  # type: ignore[no-untyped-def]
    """What RQ recorded of each delivery it finished on the matching queue (its start and
    end), read before the queues are emptied: wakes of the agency, each ranking a batch,
    and any job sent on its own."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    from agency.jobs.queue import Routes

    connection = Redis.from_url(redis_url)
    queue = Queue(Routes(prefix=prefix).queue_of_kind("matching"), connection=connection)
    jobs = Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=connection)
    times = {"wake": [], "ran": []}  # type: ignore[var-annotated]
    ends = []
    for job in jobs:
        if job is None or job.started_at is None or job.ended_at is None:
            continue
        ends.append(job.ended_at.replace(tzinfo=dt.UTC))
        kind = "wake" if job.id.startswith("wake_") else "ran"
        times[kind].append((job.ended_at - job.started_at).total_seconds() * 1000)
    return times, max(ends) if ends else None


def through_the_worker(app, settings, agency, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` match jobs for ``n`` new requests drained by ``agency-worker`` as deployed."""
    import subprocess

    from agency.introductions.match_jobs import enqueue_match

    found = _worker_queue(settings)
    if found is None:
        return
    redis_url, prefix, queued, make = found
    seekers = _seekers(make, n)
    with make() as s, queued.app_context():  # queued after commit, as the API does
        job_ids = [
            enqueue_match(s, _new_request(s, seeker, agency), new_request=True).id
            for seeker in seekers
        ]
        s.commit()
    command, env = _worker_command(redis_url, prefix, settings, "--burst", "--queues", "matching")
    started = time.perf_counter()
    try:
        subprocess.run(command, env=env, check=True, timeout=600)
        wall = time.perf_counter() - started
        rows = _rows(make, job_ids)
        deliveries, last_delivery = _deliveries(redis_url, prefix)
    finally:
        empty_queues(redis_url, prefix)
    done = [r for r in rows if r.status == "finished" and r.started_at and r.ended_at]
    print(f"\nthrough agency-worker --burst --queues matching ({n} jobs, {wall:.1f} s with "
          f"the worker's start): {len(done)} finished; {_batched(rows)}")  # fmt: skip
    if done:
        first = min(r.started_at for r in done)
        span = (max(r.ended_at for r in done) - first).total_seconds()
        each = statistics.median((r.ended_at - r.started_at).total_seconds() * 1000 for r in done)
        print(f"  {len(done) / span:7.1f} jobs/s from the first job's start to the last one's "
              f"end in its row ({span:.2f} s)")  # fmt: skip
        if last_delivery is not None:
            drained = (last_delivery - first).total_seconds()
            print(f"  {len(done) / drained:7.1f} jobs/s to the end of RQ's last delivery "
                  f"({drained:.2f} s: the queue empty)")  # fmt: skip
            between = drained - sum(map(sum, deliveries.values())) / 1000
            print(f"  {between * 1000 / n:7.1f} ms per job of RQ's own between its deliveries "
                  f"(dequeue, registries, result; {between:.2f} s in all)")  # fmt: skip
        print(f"  {each:7.1f} ms median job, started to ended in its row")
        for kind, label in (("wake", "of a wake of the agency (one batch)"),
                            ("ran", "of a job sent on its own")):  # fmt: skip
            if deliveries[kind]:
                print(f"  {statistics.median(deliveries[kind]):7.1f} ms median RQ delivery "
                      f"{label}, {sum(deliveries[kind]) / 1000:.2f} s in all "
                      f"({len(deliveries[kind])})")  # fmt: skip


def at_a_rate(settings, agency, providers: int, rate: float, seconds: float,
              change_every: int) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """New requests at ``rate`` per second for ``seconds`` (and a provider's change before
    every ``change_every``-th), each queued after its commit as the API does, against
    ``agency-worker --queues matching`` already running: does the worker keep up? Prints
    each job's lag from its row's creation to its end."""
    import signal
    import subprocess

    from rq import Queue, Worker
    from sqlalchemy import func, select

    from agency.introductions.match_jobs import enqueue_match
    from agency.jobs.models import JobRecord
    from agency.providers.models import Provider

    found = _worker_queue(settings)
    if found is None:
        return
    redis_url, prefix, queued, make = found
    n = int(rate * seconds)
    seekers = _seekers(make, n)
    command, env = _worker_command(redis_url, prefix, settings, "--queues", "matching")
    worker = subprocess.Popen(command, env=env, start_new_session=True)
    rng, job_ids = random.Random(11), []
    try:
        matching = Queue(
            f"{prefix}-matching", connection=queued.extensions["agency"].container.redis()
        )
        deadline = time.monotonic() + 60
        while not Worker.count(queue=matching):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("agency-worker did not start listening")
            time.sleep(0.1)
        time.sleep(1.0)  # its first job of the day is not the one measured
        since = dt.datetime.now(dt.UTC)
        started = last_change = time.perf_counter()
        with make() as s, queued.app_context():
            for i, seeker in enumerate(seekers):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if change_every and i % change_every == 0:
                    provider = s.get(Provider, f"prv_bench{rng.randrange(providers):019d}")
                    provider.capacity_hours_per_week = provider.capacity_hours_per_week % 30 + 1
                    s.commit()  # the flush hook logs this provider with the new generation
                    last_change = time.perf_counter()
                request = _new_request(s, seeker, agency)
                job_ids.append(enqueue_match(s, request, new_request=True).id)  # as the API
                s.commit()
        offered = n / (time.perf_counter() - started)
        deadline = time.monotonic() + 120
        while True:
            rows = _rows(make, job_ids)
            if all(r.status in ("finished", "failed") for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        caught_up = None  # seconds from the last change until no re-match is left to run
        while change_every and time.monotonic() < deadline:
            with make() as s:
                pending = s.scalar(
                    select(func.count()).where(
                        JobRecord.name == "rematch_agency",
                        JobRecord.created_at >= since,
                        JobRecord.status.in_(("queued", "started")),
                    )
                )
            if not pending:
                caught_up = time.perf_counter() - last_change
                break
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        empty_queues(redis_url, prefix)
    with make() as s:
        rematches = dict(
            s.execute(
                select(JobRecord.status, func.count())
                .where(JobRecord.name == "rematch_agency", JobRecord.created_at >= since)
                .group_by(JobRecord.status)
            ).all()
        )
        finished = s.execute(
            select(JobRecord.result, JobRecord.started_at, JobRecord.ended_at).where(
                JobRecord.name == "rematch_agency",
                JobRecord.created_at >= since,
                JobRecord.status == "finished",
            )
        ).all()
        results = [row.result for row in finished]
        chunk_ms = sorted((r.ended_at - r.started_at).total_seconds() * 1000 for r in finished)
    done = sorted((r for r in rows if r.status == "finished"), key=lambda r: r.created_at)
    lags = [(r.ended_at - r.created_at).total_seconds() * 1000 for r in done]
    changes = (
        f"a provider's change before every {change_every}th" if change_every
        else "no provider changes"
    )  # fmt: skip
    print(
        f"\nagency-worker --queues matching at {offered:.1f} new requests/s for {seconds:g} s"
        f" ({changes}): {len(done)} of {n} finished; {_batched(rows)}"
    )
    if lags:
        q = statistics.quantiles(lags, n=100)
        tenth = max(1, len(lags) // 10)
        print(f"  lag from the request's commit to its job's end: p50 {q[49]:.0f} ms, "
              f"p95 {q[94]:.0f} ms, max {max(lags):.0f} ms; first tenth's median "
              f"{statistics.median(lags[:tenth]):.0f} ms, last tenth's "
              f"{statistics.median(lags[-tenth:]):.0f} ms (a queue that grows shows)")  # fmt: skip
        runs = [(r.ended_at - r.started_at).total_seconds() * 1000 for r in done]
        print(f"  each job started to ended in its row: median {statistics.median(runs):.1f} ms, "
              f"first tenth's {statistics.median(runs[:tenth]):.1f} ms, last tenth's "
              f"{statistics.median(runs[-tenth:]):.1f} ms")  # fmt: skip
    if change_every:
        print(f"  re-match jobs (chunks) queued by the changes, by status: {rematches}; "
              f"rankings checked {sum(r.get('requests', 0) for r in results)}, rewritten "
              f"{sum(r.get('rewritten', 0) for r in results)}")  # fmt: skip
        if chunk_ms:
            print(f"  each re-match chunk started to ended: median "
                  f"{statistics.median(chunk_ms):.0f} ms, max {chunk_ms[-1]:.0f} ms")  # fmt: skip
        if caught_up is not None:
            print(f"  every open request ranked against the last change {caught_up:.1f} s "
                  "after it")  # fmt: skip
        else:
            print("  re-matches still pending 120 s after the last request")


if __name__ == "__main__":
    main()
