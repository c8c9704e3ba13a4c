"""Read-path throughput at 10k providers against a bare-Flask floor (prints figures; not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/api_reads.py --providers 10000 --seconds 8

Builds the data set in a scratch database with bulk INSERTs (dropped at the end),
starts the API under gunicorn (2 sync workers, as deployed) and a bare Flask app that
only returns ``jsonify`` under the same gunicorn settings (the floor), then drives each
endpoint with a bounded loopback load generator, 16 connections for ``--seconds`` each:
Debian's ``wrk`` (one C thread) where installed, else Python threads (``--client``). The
Python client takes about one of the two CPUs at the floor's rate and caps the floor near
3,000 req/s where wrk measures about 7,000, so its ratios flatter every row; the figures
to go by are wrk's. Prints requests/s, p50 and p99 latency and the ratio to the
floor measured in the same run: by default the floor is measured again (for half as long)
after each row, and each row's ratio is to the mean of the floors just before and just
after it, so that a drift of the machine's speed within the run (a shared host's
neighbours) does not land on the rows measured far from a single floor row
(``--no-floor-beside``: one floor, the first row). Target (issue 15): every read >= 40 %
of the floor.
The app logs at ``--log-level`` (default WARNING: no access line per request, as the
floor writes none; INFO, the deployed default, measures the access log's cost).

The last row, ``POST /care-seekers/{id}/care-requests`` (a partner creating a care
request with its API key; target >= 20 %), runs after the reads on a second gunicorn of
the same app whose jobs go to Redis (``REDIS_URL``, default redis://127.0.0.1:6379/0)
under a queue prefix of its own that no worker reads (``RQ_QUEUE=bench-<random>``,
emptied at the end): each POST stores the request, its consent check, audit record and
job row, and dispatches the match job after commit, as deployed, without a worker
matching 10k providers on the same CPUs. A match job goes to Redis as a wake of its
agency, one waiting at a time (agency.jobs.queue.JobRunner.dispatch): with no worker
clearing it, each POST's dispatch is one SET NX that finds the wake waiting, and one
POST a minute sends a wake; with a worker draining batches of 17 under load, about one
POST in 17 sends one. It posts for seekers of their own (a pool of
``--post-seekers``), so the read rows' data set is untouched. Without Redis the row is
skipped (inline jobs would run the match in the request). A last row runs the same body
against the stack's least write (``FLOOR_WRITE_APP``: Flask, the API's marshmallow schema,
SQLAlchemy Core and RQ storing one row and queuing one job, with none of the API's other
work): the fair baseline for the POST row, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from agency import create_app  # noqa: E402
from agency.config import Settings  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
FLOOR_APP = """
from flask import Flask, jsonify
app = Flask(__name__)

@app.get("/health/live")
def live():
    return jsonify(status="ok")
"""
# The same stack's least write, for the POST row (a fair baseline, not a target): what a
# competent engineer's first version of "store a care request and queue its match" costs
# with Flask, marshmallow (the API's own body schema), SQLAlchemy Core on psycopg and RQ:
# the API key read in one statement, the body validated, one row INSERTed and committed,
# the job enqueued in one Redis pipeline, the row returned. Nothing the API must also do:
# no seeker, consent or routing read, no audit entry, no job row, no flask-smorest.
FLOOR_WRITE_APP = """
import datetime as dt, hashlib, os, uuid
from flask import Flask, jsonify, request
from marshmallow import ValidationError
from redis import Redis
from rq import Queue, Retry
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, create_engine, insert, text
from agency.seekers.request_schemas import CareRequestCreateSchema

engine = create_engine(os.environ["FLOOR_DATABASE_URL"])
rows = Table("bench_floor_writes", MetaData(), Column("id", String(40), primary_key=True),
             Column("seeker_id", String(40)), Column("partner_client_id", String(40)),
             Column("body", JSON), Column("created_at", DateTime(timezone=True)))
add_row = insert(rows)
key_read = text("SELECT k.partner_client_id FROM api_keys k JOIN partner_clients p "
                "ON p.id = k.partner_client_id WHERE k.key_digest = :digest "
                "AND k.revoked_at IS NULL AND p.active")
queue = Queue(os.environ["FLOOR_QUEUE"], connection=Redis.from_url(os.environ["REDIS_URL"]))
schema = CareRequestCreateSchema()
app = Flask(__name__)


@app.get("/health/live")
def live():
    return jsonify(status="ok")


@app.post("/care-seekers/<seeker_id>/care-requests")
def create(seeker_id):
    digest = hashlib.sha256(request.headers.get("X-API-Key", "").encode()).hexdigest()
    with engine.connect() as connection:
        partner = connection.execute(key_read, {"digest": digest}).scalar()
    if partner is None:
        return jsonify(error="unauthenticated"), 401
    try:
        body = schema.load(request.get_json())
    except ValidationError as error:
        return jsonify(errors=error.messages), 422
    row = {"id": "req_" + uuid.uuid4().hex, "seeker_id": seeker_id,
           "partner_client_id": partner, "body": schema.dump(body),
           "created_at": dt.datetime.now(dt.UTC)}
    with engine.begin() as connection:
        connection.execute(add_row, row)
    with queue.connection.pipeline() as pipeline:
        queue.enqueue("bench.nothing", row["id"], job_id="job_" + row["id"][4:],
                      retry=Retry(max=3, interval=[5, 30, 120]), failure_ttl=7 * 24 * 3600,
                      result_ttl=24 * 3600, pipeline=pipeline)
        pipeline.execute()
    return jsonify({**row["body"], "id": row["id"], "seeker_id": seeker_id}), 201
"""
SERVICES = ["companionship", "shopping_errands", "meal_preparation", "domestic_help"]
OUTCODES = [f"BS{n}" for n in (*range(1, 12), 13, 14, 15, 16)]  # there is no BS12


def populate(url: str, n: int, post_seekers: int = 64) -> dict[str, Any]:
    """10k providers (90 % approved and in date) by bulk INSERT; the principals' credentials."""
    import matching
    from agency.accounts.models import User
    from agency.directory.models import Agency, Council
    from agency.providers.models import (
        ComplianceItem,
        Provider,
        ProviderListing,
        ProviderService,
        oruk_uuid,
    )
    from agency.schedule import mask_to_hex, windows_to_mask
    from tests.factories import (
        bearer,
        make_care_request,
        make_manager,
        make_neighbourhood,
        make_partner,
        make_seeker,
    )

    rng = random.Random(7)
    app = create_app(Settings(database_url=url, log_level="WARNING"))
    session = app.extensions["agency"].sessionmaker()
    council = {"id": "cnc_bench", "name": "Bench council", "slug": "bench"}
    agency = {"id": "agy_bench", "council_id": council["id"], "name": "Bench", "slug": "bench"}
    windows = [{"weekday": d, "start": "09:00", "end": "13:00"} for d in range(5)]
    mask = mask_to_hex(windows_to_mask(windows, "w"))
    table = matching.outcode_table()
    users, providers, listings, services, items = [], [], [], [], []
    started = time.perf_counter()
    for i in range(n):
        pid, uid = f"prv_bench{i:019d}", f"usr_bench{i:019d}"
        outcode = rng.choice(OUTCODES)
        lat, lon = table.latlon(outcode)
        users.append({"id": uid, "email": f"p{i}@bench.test", "password_hash": "x",
                      "role": "provider"})  # fmt: skip
        providers.append(
            {"id": pid, "user_id": uid, "trading_name": f"Provider {i:05d}",
             "organisation_type": "sole_trader", "size": "sole_trader", "sector": "private",
             "base_outcode": outcode, "lat": lat + rng.uniform(-0.01, 0.01),
             "lon": lon + rng.uniform(-0.01, 0.01), "locality": "council_area",
             "locality_basis": "bench", "travel_radius_km": rng.choice([3.0, 5.0, 8.0]),
             "languages": ["en"], "skills": [], "capacity_hours_per_week": 20.0,
             "weekly_availability": windows, "availability_mask": mask,
             "bio": None if i % 7 else "Local help.", "oruk_id": oruk_uuid("service", pid),
             "oruk_organization_id": oruk_uuid("organization", pid)}
        )  # fmt: skip
        listings.append({"id": f"lst_bench{i:019d}", "provider_id": pid, "agency_id": agency["id"],
                         "council_id": council["id"],
                         "status": "approved" if i % 10 else "applied"})  # fmt: skip
        for key in rng.sample(SERVICES, 2):
            services.append({"provider_id": pid, "service_key": key, "rate_pence": 1800})
        for kind in ("dbs", "insurance"):
            items.append({"id": f"cmp_{kind[:3]}{i:019d}", "provider_id": pid, "kind": kind,
                          "evidence_reference": "x", "issued_on": dt.date(2024, 1, 1),
                          "expires_on": dt.date(2030, 1, 1), "status": "verified"})  # fmt: skip
    with session.begin():
        session.execute(insert(Council), [council])
        session.execute(insert(Agency), [agency])
        for model, rows in ((User, users), (Provider, providers), (ProviderListing, listings),
                            (ProviderService, services), (ComplianceItem, items)):  # fmt: skip
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start : start + 2000])
    from agency.directory.models import Agency as AgencyModel

    agency_row = session.get(AgencyModel, agency["id"])
    partner, secret = make_partner(session)
    manager = make_manager(session, agency_row)
    seeker = make_seeker(session, partner.id)
    request = make_care_request(session, seeker, agency_row)
    # The POST row's seekers (never the read rows' one), in an outcode the agency covers,
    # so each new request is routed and gets a match job.
    make_neighbourhood(session, agency_row, outcodes=("BS3",))
    posting = [make_seeker(session, partner.id).id for _ in range(post_seekers)]
    from agency.introductions.models import Suggestion

    with session.begin():
        session.execute(
            insert(Suggestion),
            [
                {
                    "id": f"sug_bench{r:019d}",
                    "care_request_id": request.id,
                    "provider_id": providers[r]["id"],
                    "agency_id": agency["id"],
                    "council_id": council["id"],
                    "partner_client_id": partner.id,
                    "rank": r + 1,
                    "score": 1.0 - r / 100,
                    # What a match run stores: every feature's raw and normalised value,
                    # weight and contribution (a page of 20 shaped like production's).
                    "explanation": {
                        name: {
                            "raw": 1.0 + r / 10,
                            "normalised": 0.8 - r / 50,
                            "weight": round(1 / len(matching.FEATURES), 6),
                            "contribution": round((0.8 - r / 50) / len(matching.FEATURES), 6),
                        }
                        for name in matching.FEATURES
                    },
                    "distance_km": 1.0 + r / 10,
                    "status": "active",
                }
                for r in range(20)
            ],  # fmt: skip
        )
    headers = bearer(session, manager)
    with session.begin():
        session.execute(text("ANALYZE") if url.startswith("postgresql") else text("SELECT 1"))
    print(f"data set: {n} providers in {time.perf_counter() - started:.1f} s (bulk INSERTs)")
    session.close()
    return {
        "partner_key": secret,
        "manager_auth": headers["Authorization"],
        "agency_id": agency["id"],
        "request_id": request.id,
        "post_seekers": posting,
    }


def create_floor_write_table(url: str) -> None:
    """The table ``FLOOR_WRITE_APP`` stores its rows in (none of the API's tables)."""
    with create_engine(url).begin() as connection:
        connection.execute(text(
            "CREATE TABLE bench_floor_writes (id varchar(40) PRIMARY KEY, seeker_id "
            "varchar(40), partner_client_id varchar(40), body json, created_at timestamptz)"
        ))  # fmt: skip


def new_request_body() -> bytes:
    """The POST rows' body: a care request as a partner front end sends one (JSON)."""
    return json.dumps(
        {"services": ["companionship", "shopping_errands"], "hours_per_week": 3,
         "windows": [{"weekday": 1, "start": "10:00", "end": "12:00"},
                     {"weekday": 3, "start": "14:00", "end": "16:00"}],
         "start_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
         "urgency": "soon", "funding": "isf", "max_rate_pence": 2200,
         "preferences": {"languages": ["en"]}, "notes": "Bench request."}
    ).encode()  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    app_spec: str,
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: IO[bytes] | None = None,
    workers: int = 2,
) -> subprocess.Popen:
    # Two sync workers as deployed (Dockerfile, docker-compose.yml), the same for the floor;
    # the API's worker is gunicorn.conf.py's (gunicorn's sync worker with JSON refusals),
    # read from ``cwd`` as when deployed.
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=cwd, env=env, start_new_session=True, stdout=log, stderr=log,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/live")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn on {port} did not start")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def workers_cpu_s(master: subprocess.Popen) -> float:
    """User + system CPU seconds used so far by a gunicorn master's workers (Linux /proc)."""
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def database_cpu_s(database: str) -> float:
    """User + system CPU seconds used so far by PostgreSQL's backends of ``database``.

    A backend's process title names its database (``postgres: 15/main: postgres <db>
    ...``); connections that come and go between two readings are missed, which the
    bench's pooled connections do not do. WAL writer and checkpointer are not counted.
    """
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").split()
            if b"postgres:" not in title[:1] or database.encode() not in title:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load(
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
    body: bytes | None = None,
    picks: list[str] | None = None,
):
    """``concurrency`` keep-alive clients for ``seconds``: (requests/s, p50 ms, p99 ms, errors).

    A ``{n}`` in ``path`` becomes a number unique to each request (to measure a page that
    is never in the read cache). With a ``body`` each request is a POST of it (JSON) that
    must answer 201, and a ``{pick}`` in ``path`` takes the next of ``picks`` in turn.
    """
    method, expected = ("POST", 201) if body is not None else ("GET", 200)
    if body is not None:
        headers = {**headers, "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    stop_at = time.perf_counter() + seconds

    def worker(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            n += 1
            try:
                url = path.replace("{n}", f"{k:02d}{n % 10000:04d}")
                if picks:
                    url = url.replace("{pick}", picks[(k + n * concurrency) % len(picks)])
                connection.request(method, url, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != expected:
                    errors[k] += 1
            except OSError:
                errors[k] += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies[k].append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for per in latencies for x in per)
    if not every:
        return 0.0, 0.0, 0.0, sum(errors)
    return (
        len(every) / elapsed,
        every[len(every) // 2] * 1000,
        every[min(len(every) - 1, int(len(every) * 0.99))] * 1000,
        sum(errors),
    )


# wrk's script: each request's path ({n}: a number unique to the request, {pick}: the next
# of the picks in turn), and one line of figures at the end for load_wrk to read.
WRK_SCRIPT = """
local template, method, body, picks = %s, %s, %s, {%s}
local n, k = 0, 0
request = function()
  n = n + 1
  local path = template:gsub("{n}", string.format("%%06d", n %% 1000000))
  if #picks > 0 then
    k = k %% #picks + 1
    path = path:gsub("{pick}", picks[k])
  end
  return wrk.format(method, path, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("figures %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_wrk(
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
    body: bytes | None = None,
    picks: list[str] | None = None,
):
    """:func:`load`'s figures from wrk (Debian's ``wrk``): one C thread drives the
    ``concurrency`` connections, so the load generator takes a small share of the CPUs the
    servers need, where Python's threads take about one CPU at the floor's rate. Any
    answer of 400 or more, or a socket error, counts as an error."""
    method = "POST" if body is not None else "GET"
    if body is not None:
        headers = {**headers, "Content-Type": "application/json"}
    script = WRK_SCRIPT % (
        _lua(path), _lua(method), "nil" if body is None else _lua(body.decode()),
        ", ".join(_lua(pick) for pick in picks or []) if "{pick}" in path else "",
    )  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
                   "--timeout", "30s", "-s", file.name]  # fmt: skip
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://127.0.0.1:{port}")
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(file.name)
    line = next(line for line in output.splitlines() if line.startswith("figures "))
    requests, duration_us, p50_us, p99_us, errors = map(int, line.split()[1:])
    ok = requests - errors
    return ok / (duration_us / 1e6), p50_us / 1000, p99_us / 1000, errors


def redis_for_posts() -> str | None:
    """The Redis the POST row's app queues its jobs in (None: not reachable, row skipped)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        from redis import Redis

        Redis.from_url(url, socket_timeout=2).ping()
    except Exception:
        return None
    return url


def empty_queues(redis_url: str, prefix: str) -> None:
    from redis import Redis
    from rq import Queue

    from agency.jobs.queue import Routes

    connection = Redis.from_url(redis_url)
    for name in (prefix, *Routes(prefix=prefix).queue_names()):
        Queue(name, connection=connection).delete(delete_jobs=True)
    for key in connection.scan_iter(f"{prefix}:wake:*"):  # agencies' wake marks
        connection.delete(key)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--post-seekers", type=int, default=64)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: only rows whose label holds one (and the floor)",
    )
    parser.add_argument(
        "--floor-beside",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the floor again after each row, and give each row's ratio to the mean "
        "of the floors just before and after it (a 2-CPU machine's speed drifts within a run); "
        "--no-floor-beside: every ratio to the first floor row",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="the app's LOG_LEVEL; INFO (the deployed default) adds a JSON access line per request",
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the load generator: wrk (default where installed: `apt-get install wrk`), or "
        "Python threads (they take about one CPU at the floor's rate, which caps the floor)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn sync workers of the API and of the floor alike (2, as deployed)",
    )
    args = parser.parse_args(argv)
    drive = load_wrk if args.client == "wrk" else load
    url, drop = scratch_database()
    processes: list[subprocess.Popen] = []
    redis_url, queue_prefix = redis_for_posts(), f"bench-{uuid.uuid4().hex[:8]}"
    log: IO[bytes] | None = None
    try:
        upgrade(url)
        creds = populate(url, args.providers, args.post_seekers)
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": args.log_level.upper()}
        # Below WARNING the app writes a line per request: to a file, as a log shipper
        # would read it, not to this terminal.
        if logging.getLevelName(env["LOG_LEVEL"]) < logging.WARNING:
            # closed in the finally below, after the processes writing to it have stopped
            log = tempfile.NamedTemporaryFile(  # noqa: SIM115
                prefix="api-reads-", suffix=".log", delete=False
            )
        env.pop("REDIS_URL", None)
        api_port, floor_port, post_port = free_port(), free_port(), free_port()
        write_port = free_port()
        floor_dir = Path(tempfile.mkdtemp())
        (floor_dir / "floor.py").write_text(FLOOR_APP, encoding="utf-8")
        processes.append(start_gunicorn("wsgi:app", api_port, env, ROOT, log, args.workers))
        processes.append(
            start_gunicorn("floor:app", floor_port, dict(os.environ), floor_dir, None, args.workers)
        )
        master_of = {api_port: processes[0], floor_port: processes[1]}
        if redis_url:  # the same app, its jobs queued where no worker reads them
            post_env = {**env, "REDIS_URL": redis_url, "RQ_QUEUE": queue_prefix}
            processes.append(
                start_gunicorn("wsgi:app", post_port, post_env, ROOT, log, args.workers)
            )
            master_of[post_port] = processes[2]
            # The stack's least write (FLOOR_WRITE_APP), its rows in a table of its own.
            create_floor_write_table(url)
            (floor_dir / "floor_write.py").write_text(FLOOR_WRITE_APP, encoding="utf-8")
            write_env = {**os.environ, "FLOOR_DATABASE_URL": url, "REDIS_URL": redis_url,
                         "FLOOR_QUEUE": queue_prefix, "PYTHONPATH": str(ROOT)}  # fmt: skip
            processes.append(
                start_gunicorn(
                    "floor_write:app", write_port, write_env, floor_dir, None, args.workers
                )
            )
            master_of[write_port] = processes[3]
        partner = {"X-API-Key": creds["partner_key"]}
        manager = {"Authorization": creds["manager_auth"]}
        new_request = new_request_body()
        cases = [
            ("floor: bare Flask jsonify", floor_port, "/health/live", {}),
            ("/health/live", api_port, "/health/live", {}),
            ("/directory/providers", api_port, "/directory/providers", partner),
            ("/directory/providers?outcode=BS3", api_port, "/directory/providers?outcode=BS3",
             partner),
            ("/oruk/services?page=1", api_port, "/oruk/services?page=1", {}),
            ("/oruk/services?postcode=BS3", api_port, "/oruk/services?postcode=BS3", {}),
            ("/directory/providers, never cached", api_port, "/directory/providers?nocache={n}",
             partner),
            ("/oruk/services, never cached", api_port,
             "/oruk/services?modified_after=2000-01-01T00:00:00.{n}%2B00:00", {}),
            ("/agencies/{id}/providers", api_port, f"/agencies/{creds['agency_id']}/providers",
             manager),
            ("/care-requests/{id}/suggestions", api_port,
             f"/care-requests/{creds['request_id']}/suggestions", manager),
        ]  # fmt: skip
        # Writes last: they add rows (care requests, jobs, audit records) the reads never see.
        posts = [
            ("POST /care-seekers/{id}/care-requests", post_port,
             "/care-seekers/{pick}/care-requests", partner),
            ("POST, the stack's least write (baseline)", write_port,
             "/care-seekers/{pick}/care-requests", partner),
        ] if redis_url else []  # fmt: skip
        cases = [
            case
            for case in cases + posts
            if case[1] == floor_port or any(part in case[0] for part in args.only.split(","))
        ]
        for label, port, path, headers in cases:  # warm up: imports, connection pools, caches
            body = new_request if label.startswith("POST") else None
            drive(port, path, headers, 1.0, 2, body, creds["post_seekers"])
        print(
            f"\n{args.providers} providers, gunicorn {args.workers} sync workers, concurrency "
            f"{args.concurrency}, {args.seconds:g} s per endpoint, load generator "
            f"{args.client}, CPUs: {os.cpu_count()}, "
            f"load average {os.getloadavg()[0]:.1f}, the app's LOG_LEVEL {env['LOG_LEVEL']}"
        )
        print(
            "cpu ms/req: the gunicorn workers' CPU per request; db ms/req: the CPU of the "
            "PostgreSQL backends serving the bench's database, per request"
        )
        if not redis_url:
            print("POST row skipped: no Redis to queue its match jobs in (REDIS_URL)")
        if args.floor_beside:
            print(
                "floor: each row's ratio is to the floor measured just before and just after "
                f"it ({args.seconds / 2:g} s each; their mean in the 'floor/s' column)"
            )
        heading = ("endpoint", "req/s", "p50 ms", "p99 ms", "floor", "cpu ms/req", "db ms/req",
                   "errors", "floor/s")  # fmt: skip
        print("{:40} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9} {:>6} {:>8}".format(*heading))
        database = url.rsplit("/", 1)[1]
        floor = None
        for label, port, path, headers in cases:
            body = new_request if label.startswith("POST") else None
            cpu_before, db_before = workers_cpu_s(master_of[port]), database_cpu_s(database)
            rps, p50, p99, errors = drive(
                port, path, headers, args.seconds, args.concurrency, body, creds["post_seekers"]
            )
            served = max(rps * args.seconds, 1)
            cpu = (workers_cpu_s(master_of[port]) - cpu_before) / served
            db = (database_cpu_s(database) - db_before) / served
            beside = floor = floor or rps
            if args.floor_beside and port != floor_port:
                after = drive(floor_port, "/health/live", {}, args.seconds / 2, args.concurrency)[0]
                beside, floor = (floor + after) / 2, after
            print(
                f"{label:40} {rps:8.0f} {p50:8.1f} {p99:8.1f} {rps / beside:7.1%} "
                f"{cpu * 1000:10.2f} {db * 1000:9.2f} {errors:6d} {beside:8.0f}"
            )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        if log is not None:
            print(f"the app's log lines: {log.name} ({Path(log.name).stat().st_size:,} bytes)")
    finally:
        for process in processes:
            stop(process)
        if redis_url:
            empty_queues(redis_url, queue_prefix)
        if log is not None:
            log.close()
        drop()


if __name__ == "__main__":
    main()
