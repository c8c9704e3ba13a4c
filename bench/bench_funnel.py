"""The funnel report at a year's scale: its query plan and time at 1M suggestions.

Bulk-loads (INSERT .. SELECT generate_series, in seconds) a year of care requests
(``--requests``, 50,000 by default) with ``--per-request`` suggestions each (20: 1M rows),
every fifth request introduced and some arranged, in a scratch PostgreSQL database, then
prints EXPLAIN (ANALYZE, BUFFERS) of the funnel's counting query, the old IN (subquery)
form's time for comparison, and the whole report's time (target: < 1 s). Usage:
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_funnel.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import case, func, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from agency import create_app  # noqa: E402
from agency.config import Settings  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

YEAR = "TIMESTAMPTZ '2026-01-01 00:00+00'"


def clone(session, table, template_id: str, count: int, overrides: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """``count`` copies of one row, with SQL expressions of ``g`` (1..count) for some columns."""
    columns = [c.name for c in table.columns]
    values = [overrides.get(c, f't."{c}"') for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    # Bench-only SQL built from the models' own table and column names and our literals.
    statement = (
        f"INSERT INTO {table.name} ({names}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {table.name} t, generate_series(1, {count}) g "
        "WHERE t.id = :template"
    )
    session.execute(
        text(statement),
        {"template": template_id},
    )


def request_id(expr: str) -> str:
    return f"'req_b' || lpad(({expr})::text, 12, '0')"


def populate(session, requests: int, per_request: int) -> object:  # type: ignore[no-untyped-def]
    from agency.ids import new_id
    from agency.introductions.models import Arrangement, Introduction, Suggestion
    from agency.seekers.models import CareRequest
    from tests.factories import (
        make_agency,
        make_arrangement,
        make_care_request,
        make_manager,
        make_partner,
        make_provider,
        make_seeker,
    )

    agency = make_agency(session)
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    provider = make_provider(session, agency)
    manager = make_manager(session, agency)
    template = make_care_request(session, seeker, agency)
    arrangement = make_arrangement(session, agency, provider, seeker)
    introduction = session.get(Introduction, arrangement.introduction_id)
    suggestion = Suggestion(
        id=new_id("sug"), care_request_id=template.id, provider_id=provider.id,
        agency_id=agency.id, council_id=agency.council_id, partner_client_id=partner.id,
        rank=1, score=0.9, explanation={"distance": {"raw": 1.2}}, distance_km=1.2,
    )  # fmt: skip
    session.add(suggestion)
    session.commit()
    del manager
    started = time.perf_counter()
    every = 10 * 60 * 365 * 24 // requests  # spread the requests over the year (seconds)
    created = f"{YEAR} + g * interval '{every} seconds'"
    clone(session, CareRequest.__table__, template.id, requests,
          {"id": request_id("g"), "created_at": created, "updated_at": created,
           "status": "'matching'"})  # fmt: skip
    n = requests * per_request
    first = f"(g - 1) / {per_request} + 1"
    clone(session, Suggestion.__table__, suggestion.id, n,
          {"id": "'sug_b' || lpad(g::text, 12, '0')", "care_request_id": request_id(first),
           "rank": f"(g - 1) % {per_request} + 1",
           "status": f"CASE WHEN (g - 1) % {per_request} < 5 THEN 'active' ELSE 'superseded' END",
           "created_at": f"{YEAR} + ({first}) * interval '{every} seconds'"
                         f" + interval '1 hour'"
                         f" + ((g - 1) % {per_request}) * interval '1 ms'"})  # fmt: skip
    introduced = requests // 5
    clone(session, Introduction.__table__, introduction.id, introduced,
          {"id": "'int_b' || lpad(g::text, 12, '0')", "care_request_id": request_id("g * 5"),
           "suggestion_id": "NULL",
           "status": "(ARRAY['awaiting_provider','awaiting_seeker','confirmed',"
                     "'provider_declined','seeker_declined'])[g % 5 + 1]",
           "decline_reason": "(ARRAY['too far','no time','other'])[g % 3 + 1]",
           "created_at": f"{YEAR} + (g * 5) * interval '{every} seconds'"
                         " + interval '1 day'"})  # fmt: skip
    arranged = introduced // 4
    clone(session, Arrangement.__table__, arrangement.id, arranged,
          {"id": "'arr_b' || lpad(g::text, 12, '0')", "care_request_id": request_id("g * 5"),
           "introduction_id": "'int_b' || lpad(g::text, 12, '0')",
           "created_at": f"{YEAR} + (g * 5) * interval '{every} seconds'"
                         " + interval '3 days'"})  # fmt: skip
    session.commit()
    with session.get_bind().connect() as connection:  # VACUUM runs outside a transaction
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    print(
        f"data set: {requests} requests, {n} suggestions, {introduced} introductions, "
        f"{arranged} arrangements in {time.perf_counter() - started:.1f} s (INSERT .. SELECT)"
    )
    return agency


def old_counts_statement(scope):  # type: ignore[no-untyped-def]
    """The query before: IN (subquery) over the whole, unfiltered tables."""
    from agency.introductions.models import Arrangement, Introduction, Suggestion
    from agency.reports.funnel import _accepted, requests_in_scope
    from agency.seekers.models import CareRequest

    reached = [
        CareRequest.id.in_(select(Suggestion.care_request_id)),
        CareRequest.id.in_(select(Introduction.care_request_id)),
        CareRequest.id.in_(select(Introduction.care_request_id).where(_accepted(Introduction))),
        CareRequest.id.in_(select(Arrangement.care_request_id)),
    ]
    return select(func.count(), *(func.sum(case((c, 1), else_=0)) for c in reached)).where(
        *requests_in_scope(scope)
    )


def median_ms(function, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--per-request", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old-cap-seconds", type=int, default=120)
    args = parser.parse_args(argv)

    from agency.db import STATEMENT_TIMEOUT, utcnow
    from agency.reports.funnel import counts_statement, funnel, summary_statement
    from agency.reports.scope import ReportScope

    url, drop = scratch_database(postgres_only=True)
    try:
        upgrade(url)
        app = create_app(Settings(database_url=url, redis_url=None, log_level="WARNING"))
        session = app.extensions["agency"].sessionmaker()
        agency = populate(session, args.requests, args.per_request)
        session.close()
        # A web request's session: statement timeout (and no JIT) as the API runs it.
        session = app.extensions["agency"].sessionmaker(
            info={STATEMENT_TIMEOUT: app.extensions["agency"].settings.web_statement_timeout_ms}
        )
        scope = ReportScope(
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            now=utcnow(),
            council_id=agency.council_id,  # type: ignore[attr-defined]
        )
        compiled = summary_statement(scope).compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the funnel's counts and first-suggestion median:")
        print("\n".join(f"  {line}" for line in plan))
        new = median_ms(lambda: session.execute(summary_statement(scope)).one(), args.runs)
        whole = median_ms(lambda: funnel(session, scope), args.runs)
        # The old form, once, past the web's bound (at 1M rows it outlasts it) but capped.
        cap = args.old_cap_seconds
        old = "not run (--old-cap-seconds 0)"
        with app.extensions["agency"].sessionmaker() as unbounded:
            unbounded.execute(text(f"SET LOCAL statement_timeout = {cap * 1000}"))
            started = time.perf_counter()
            try:
                if not cap:
                    raise LookupError
                old_counts = unbounded.execute(old_counts_statement(scope)).one()
                old = f"{(time.perf_counter() - started) * 1000:9.1f} ms"
                assert tuple(session.execute(counts_statement(scope)).one()) == tuple(old_counts)
            except OperationalError:
                old = f"> {cap} s (cancelled at the cap)"
            except LookupError:
                pass
        report = funnel(session, scope)
        print(f"\n{args.requests * args.per_request} suggestions; median of {args.runs} runs")
        print(f"  counts + first-suggestion median (new)  {new:9.1f} ms")
        print(f"  counts, IN (whole-table subquery) (old) {old}   (one run)")
        print(f"  whole funnel report (new)               {whole:9.1f} ms   target < 1000 ms")
        print(f"  load average {os.getloadavg()[0]:.1f} (2 CPUs shared with other work)")
        print(f"  steps: {[(s['step'], s['count']) for s in report['steps']]}")
        print(f"  median hours: {report['median_hours']}")
        session.close()
    finally:
        drop()


if __name__ == "__main__":
    main()
