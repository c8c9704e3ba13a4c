"""Planned-visit lists before and after migration 0027visitindexes, on PostgreSQL.

``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python
bench/bench_planned_visits.py`` (``--scale 0.3`` for less, ``--runs``) creates a scratch
database on that server, migrates it to 0026 (the indexes before), fills it with
bench_reports' year of a city (its planned visits, ~505,000 at scale 1), plus four weeks
ahead still planned (a copy of each arrangement's last four weeks) and the older misses
acknowledged, as a manager would have; then times each query the service sends (median of
``--runs``), PostgreSQL's execution time and buffers for it (EXPLAIN ANALYZE) and the
indexes its plan reads; migrates to head (0027) and does it again, alternating ``--rounds``
times in the same run; and drops the database.

The queries are the service's own statements (``agency.visits.continuity`` and ``cover``)
for the busiest agency, provider, cover provider and seeker. Two rows time the query shape
the code sent before this change as well (``affected_visits`` without its ``starts_at``
bound, the first planned day ordered by ``date``), since their fix is in the query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_reports import plan_indexes, populate  # noqa: E402
from sqlalchemy import and_, create_engine, event, exists, or_, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import agency.models  # noqa: E402,F401
from agency.access import Kind, Principal  # noqa: E402
from agency.dates import LONDON  # noqa: E402
from agency.migrate import downgrade, upgrade  # noqa: E402
from agency.providers.models import AvailabilityException  # noqa: E402
from agency.visits import continuity, cover  # noqa: E402
from agency.visits.models import Visit  # noqa: E402
from agency.visits.planned_models import PlannedStatus, PlannedVisit  # noqa: E402
from agency.visits.planning import _planning_covers  # noqa: E402
from bench.scratch import scratch_postgres  # noqa: E402

BEFORE = "0026invoiceprefix"

# Four weeks ahead, still planned: each arrangement's last four weeks again, 28 days on
# (a few cancelled, a few offered to a cover provider), as the planner keeps a horizon.
AHEAD_SQL = """
INSERT INTO planned_visits (id, arrangement_id, provider_id, agency_id, council_id,
    partner_client_id, seeker_id, terms_version, date, start_time, end_time, starts_at,
    ends_at, minutes, status, cancelled_at, cancelled_by, cancel_reason, cover_provider_id,
    cover_status, cover_offered_by, created_at, updated_at)
SELECT 'pvf_' || substr(md5(id), 1, 20), arrangement_id, provider_id, agency_id, council_id,
       partner_client_id, seeker_id, terms_version, date + 28, start_time, end_time,
       starts_at + interval '28 days', ends_at + interval '28 days', minutes,
       CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'planned' END,
       cancelled_at + interval '28 days', cancelled_by, cancel_reason, cover_provider_id,
       CASE WHEN cover_provider_id IS NOT NULL THEN 'offered' END, cover_offered_by,
       created_at, updated_at
FROM planned_visits WHERE starts_at >= :since
"""
ACKNOWLEDGE_SQL = """
UPDATE planned_visits SET acknowledged_at = missed_at + interval '1 day',
    acknowledged_by = 'usr_bench'
WHERE status = 'missed' AND starts_at < :week_ago
"""


def busiest(session: Session, column: Any, *where: Any) -> str:
    return str(
        session.scalar(
            select(column)
            .where(column.is_not(None), *where)
            .group_by(column)
            .order_by(text("count(*) DESC"))
            .limit(1)
        )
    )


def old_affected_visits(manager: Principal, provider_id: str, today: dt.date) -> Any:
    """``cover.affected_visits`` as it was: ``date`` from today, no ``starts_at`` bound."""
    away = exists().where(
        AvailabilityException.provider_id == PlannedVisit.provider_id,
        AvailabilityException.starts_on <= PlannedVisit.date,
        AvailabilityException.ends_on >= PlannedVisit.date,
    )
    return (
        select(PlannedVisit)
        .where(
            PlannedVisit.provider_id == provider_id,
            PlannedVisit.agency_id == manager.agency_id,
            PlannedVisit.date >= today,
            or_(
                and_(PlannedVisit.status == PlannedStatus.PLANNED, away),
                PlannedVisit.status == PlannedStatus.CANCELLED,
            ),
        )
        .order_by(PlannedVisit.starts_at, PlannedVisit.id)
    )


def cases(session: Session) -> dict[str, Callable[[], Any]]:
    today = dt.datetime.now(LONDON).date()
    agency_id = busiest(session, PlannedVisit.agency_id)
    where = (PlannedVisit.agency_id == agency_id,)
    provider_id = busiest(session, PlannedVisit.provider_id, *where)
    cover_id = busiest(session, PlannedVisit.cover_provider_id, *where)
    seeker_id = busiest(session, PlannedVisit.seeker_id, *where)
    arrangement_id = busiest(session, PlannedVisit.arrangement_id, *where)
    partner_id = session.scalar(
        select(PlannedVisit.partner_client_id).where(PlannedVisit.seeker_id == seeker_id).limit(1)
    )
    manager = Principal(Kind.MANAGER, "usr_bench", agency_id=agency_id)
    partner = Principal(Kind.PARTNER, str(partner_id))
    cover_provider = Principal(Kind.PROVIDER, "usr_bench", provider_id=cover_id)
    providers = list(
        session.scalars(
            select(PlannedVisit.provider_id)
            .where(*where)
            .group_by(PlannedVisit.provider_id)
            .order_by(text("count(*) DESC"))
            .limit(20)
        )
    )
    target = session.scalars(
        select(PlannedVisit)
        .where(
            PlannedVisit.provider_id == provider_id,
            PlannedVisit.status == PlannedStatus.PLANNED,
            PlannedVisit.starts_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )
        .order_by(PlannedVisit.starts_at)
        .limit(1)
    ).one()
    month_ago = today - dt.timedelta(days=30)
    visit = Visit(arrangement_id=arrangement_id, date=today)

    def listed(filters: dict[str, Any], limit: int) -> Callable[[], Any]:
        stmt = continuity.planned_visits_for(manager, filters).limit(limit)
        return lambda: session.scalars(stmt).all()

    def first_day_by_date() -> Any:
        return session.scalar(
            select(PlannedVisit.date)
            .where(PlannedVisit.arrangement_id == arrangement_id)
            .order_by(PlannedVisit.date)
            .limit(1)
        )

    return {
        "agency list, page 1": listed({}, 20),
        "agency list, one week": listed(
            {"date_from": month_ago, "date_to": month_ago + dt.timedelta(days=6)}, 20
        ),
        "missed list (console)": listed({"status": "missed", "unacknowledged": True}, 10),
        "cancelled from today (console)": listed({"status": "cancelled", "date_from": today}, 50),
        "affected visits (old shape)": lambda: session.scalars(
            old_affected_visits(manager, provider_id, today)
        ).all(),
        "affected visits": lambda: session.scalars(
            cover.affected_visits(session, manager, provider_id)
        ).all(),
        "cover offers": lambda: session.scalars(cover.cover_offers_for(cover_provider)).all(),
        "seeker's upcoming visits": lambda: session.scalars(
            continuity.upcoming_for_seeker(session, partner, seeker_id)
        ).all(),
        "busy (20 providers)": lambda: cover._busy(session, target, providers),
        "first planned day (old shape)": first_day_by_date,
        "first planned day": lambda: _planning_covers(session, visit),
    }


def executed(session: Session, statements: list[tuple[str, object]]) -> tuple[float, int]:
    """PostgreSQL's own execution time (ms) and buffers touched by ``statements``: the
    database's share, without the ORM building rows."""
    ms, buffers = 0.0, 0

    def walk(node: dict) -> int:
        return node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)

    for statement, parameters in statements:
        result = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        )
        plan = result.scalar()
        plan = (plan if isinstance(plan, list) else json.loads(plan))[0]
        ms += plan["Execution Time"]
        buffers += walk(plan["Plan"])
    return ms, buffers


def time_cases(session: Session, label: str, runs: int) -> dict[str, tuple[float, float, int]]:
    """Per query: the service call's median ms, PostgreSQL's execution ms, buffers."""
    results = {}
    engine = session.get_bind()
    for name, run in cases(session).items():
        captured: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if "planned_visits" in statement:
                captured.append((statement, parameters))  # noqa: B023

        event.listen(engine, "before_cursor_execute", capture)
        run()
        event.remove(engine, "before_cursor_execute", capture)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
        indexes, scans = plan_indexes(session, captured)
        database_ms, buffers = executed(session, captured)
        results[name] = (statistics.median(timings) * 1000, database_ms, buffers)
        print(
            f"{label:6} {name:31} {', '.join(sorted(indexes)) or '-'}"
            f"{'  seq scan: ' + ','.join(sorted(scans)) if scans else ''}"
        )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=2, help="before/after alternations")
    args = parser.parse_args(argv)
    with scratch_postgres() as url:
        upgrade(url, BEFORE)
        engine = create_engine(url)
        with Session(engine) as session:
            started = time.perf_counter()
            populate(session, random.Random(8), args.scale)
            now = dt.datetime.now(dt.UTC)
            session.execute(text(AHEAD_SQL), {"since": now - dt.timedelta(days=28)})
            session.execute(text(ACKNOWLEDGE_SQL), {"week_ago": now - dt.timedelta(days=7)})
            session.commit()
            total = session.scalar(text("SELECT count(*) FROM planned_visits"))
            print(f"populated in {time.perf_counter() - started:.0f} s: {total:,} planned visits")
        rounds: dict[str, list[dict[str, tuple[float, float, int]]]] = {"before": [], "after": []}
        # Alternating rounds, so a busy moment on the machine falls on both sides.
        for n in range(args.rounds):
            for label, revision in (("before", BEFORE), ("after", "head")):
                (upgrade if revision == "head" else downgrade)(url, revision)
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE planned_visits"))
                    connection.commit()
                with Session(engine) as session:
                    rounds[label].append(time_cases(session, f"{label}{n + 1}", args.runs))
                    session.rollback()
        print("\n(service call: median ms over rounds; PostgreSQL: execution ms, buffers)")
        print(
            f"{'':31} {'call before':>11} {'after':>7}   {'db before':>9} {'after':>7}"
            f"   {'buffers before':>14} {'after':>6}"
        )
        for case in rounds["before"][0]:
            before, after = ([r[case] for r in rounds[side]] for side in ("before", "after"))
            call_b, call_a = (statistics.median(r[0] for r in side) for side in (before, after))
            db_b, db_a = (statistics.median(r[1] for r in side) for side in (before, after))
            print(
                f"{case:31} {call_b:11.2f} {call_a:7.2f}   {db_b:9.2f} {db_a:7.2f}"
                f"   {before[0][2]:14,} {after[0][2]:6,}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
