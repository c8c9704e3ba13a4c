"""Reports over a year of a city's data on PostgreSQL: median of 5 runs, and the indexes used.

``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python
bench/bench_reports.py`` creates a scratch database on that server, migrates it, fills it
with bulk INSERTs (2,000 providers, 5,000 seekers, 8,000 care requests, ~34,000
suggestions, ~9,000 introductions, ~4,400 arrangements, 60,000 paid invoices: about
500,000 visits' worth), times each report for the whole council and for one agency, prints
which indexes PostgreSQL's plans use (EXPLAIN), and drops the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import agency.models  # noqa: E402,F401
from agency.access import Kind, Principal  # noqa: E402
from agency.accounts.models import PartnerClient, User  # noqa: E402
from agency.db import Base  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from agency.reports.routes import REPORTS  # noqa: E402
from agency.reports.scope import resolve_scope  # noqa: E402

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
YEAR_START = NOW - dt.timedelta(days=365)
SERVICES = ["companionship", "shopping_errands", "meal_preparation", "domestic_help",
            "getting_out", "accompanying_appointments", "personal_care"]  # fmt: skip
LOCALITIES = (["council_area"] * 11 + ["combined_authority"] * 4 + ["region"] * 3
              + ["national"] * 2)  # fmt: skip
SIZES = ["sole_trader"] * 6 + ["micro"] * 3 + ["small", "larger"]
SECTORS = ["vcse", "vcse", "social_enterprise", "private", "private"]
REASONS = ["Too far to travel", "No capacity that week", "Times do not suit",
           "Prefers a woman carer", "Found someone else", "Rate too high", None]  # fmt: skip


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _at(start: dt.datetime, hours: float) -> dt.datetime:
    return start + dt.timedelta(hours=hours)


def populate(session: Session, rng: random.Random, scale: float) -> dict[str, object]:
    """Bulk INSERTs of one council's year; returns ids the timings need."""
    n_providers, n_seekers, n_requests = (int(x * scale) for x in (2000, 5000, 8000))
    n_invoices = int(60000 * scale)
    rows: dict[type, list[dict]] = {}

    def add(model: type, **values: object) -> dict:
        rows.setdefault(model, []).append(values)
        return values

    from agency.directory.models import Agency, Council, Neighbourhood
    from agency.introductions.models import (
        Arrangement,
        ArrangementVersion,
        Introduction,
        Suggestion,
    )  # fmt: skip
    from agency.isf.models import Invoice
    from agency.providers.models import Provider, ProviderListing, ProviderService
    from agency.seekers.models import CareRequest, CareSeeker

    council = add(Council, id=_id("cnc"), name="Bench City Council", slug="bench-city")
    agencies = [
        add(Agency, id=_id("agy"), council_id=council["id"], name=f"Agency {i}", slug=f"agy-{i}")
        for i in range(4)
    ]
    hoods = [
        add(Neighbourhood, id=_id("nbh"), council_id=council["id"], slug=f"n-{i}",
            name=f"Neighbourhood {i}", agency_id=agencies[i % 4]["id"] if i < 32 else None)
        for i in range(36)
    ]  # fmt: skip
    partner = add(PartnerClient, id=_id("ptn"), name="Bench partner")
    providers = []
    for i in range(n_providers):
        user = add(User, id=_id("usr"), email=f"p{i}@bench.test", password_hash="x",  # noqa: S106
                   role="provider")  # fmt: skip
        provider = add(
            Provider, id=_id("prv"), user_id=user["id"], trading_name=f"Provider {i}",
            organisation_type="sole_trader", size=rng.choice(SIZES), sector=rng.choice(SECTORS),
            base_outcode=f"BS{rng.randint(1, 16)}", lat=51.45, lon=-2.59,
            locality=rng.choice(LOCALITIES), locality_basis=rng.choice(
                ["centroid of outcode tested against OS Boundary-Line", "no council area"]),
            capacity_hours_per_week=float(rng.choice([5, 10, 15, 20, 30])),
        )  # fmt: skip
        provider["agency"] = rng.choice(agencies)["id"]
        providers.append(provider)
        status = "approved" if rng.random() < 0.9 else "applied"
        add(ProviderListing, id=_id("lst"), provider_id=provider["id"],
            agency_id=provider["agency"], council_id=council["id"], status=status)  # fmt: skip
        for key in rng.sample(SERVICES, rng.randint(2, 4)):
            add(ProviderService, provider_id=provider["id"], service_key=key, rate_pence=1900)
    by_agency = {a["id"]: [p for p in providers if p["agency"] == a["id"]] for a in agencies}
    seekers = [
        add(CareSeeker, id=_id("skr"), partner_client_id=partner["id"], reference=f"r{i}")
        for i in range(n_seekers)
    ]
    arrangements = []
    for _ in range(n_requests):
        hood = rng.choice(hoods)
        created = _at(YEAR_START, rng.uniform(0, 365 * 24))
        status = rng.choices(["matched", "open", "matching", "closed", "withdrawn"],
                             [55, 15, 10, 15, 5])[0]  # fmt: skip
        request = add(
            CareRequest, id=_id("req"), seeker_id=rng.choice(seekers)["id"],
            partner_client_id=partner["id"], council_id=council["id"],
            agency_id=hood["agency_id"], neighbourhood_id=hood["id"],
            outcode=f"BS{rng.randint(1, 16)}", lat=51.45, lon=-2.59,
            services=rng.sample(SERVICES, rng.randint(1, 2)),
            minutes_per_week=30 * rng.randint(1, 16), windows=[], windows_mask="0" * 96,
            start_date=created.date(), funding="isf", status=status, created_at=created,
            updated_at=created,
        )  # fmt: skip
        pool = by_agency.get(hood["agency_id"] or "", [])
        if not pool or rng.random() > 0.85:
            continue
        for rank in range(5):
            add(Suggestion, id=_id("sug"), care_request_id=request["id"],
                provider_id=rng.choice(pool)["id"], agency_id=hood["agency_id"],
                council_id=council["id"], partner_client_id=partner["id"], rank=rank + 1,
                score=0.5, explanation={}, status="superseded",
                created_at=_at(created, rng.uniform(0.05, 48) + rank))  # fmt: skip
        if status != "matched" and rng.random() < 0.6:
            continue
        for attempt in range(rng.choice([1, 1, 2])):
            final = status == "matched" and attempt == 0
            intro_status = (
                "confirmed"
                if final
                else rng.choice(
                    ["provider_declined", "seeker_declined", "expired", "awaiting_provider"]
                )
            )
            provider = rng.choice(pool)
            intro = add(
                Introduction, id=_id("itr"), care_request_id=request["id"],
                provider_id=provider["id"], agency_id=hood["agency_id"],
                council_id=council["id"], partner_client_id=partner["id"],
                status=intro_status, approved_by=provider["user_id"],
                respond_by=_at(created, 24 * 7), created_at=_at(created, rng.uniform(2, 96)),
                updated_at=created, decline_reason=rng.choice(REASONS)
                if intro_status.endswith("declined") else None,
            )  # fmt: skip
            if final:
                arrangement = add(
                    Arrangement, id=_id("arr"), introduction_id=intro["id"],
                    care_request_id=request["id"], seeker_id=request["seeker_id"],
                    provider_id=provider["id"], agency_id=hood["agency_id"],
                    council_id=council["id"], partner_client_id=partner["id"], funding="isf",
                    status="active" if rng.random() < 0.8 else "ended",
                    start_date=created.date(), current_version=1,
                    created_at=_at(created, rng.uniform(24, 240)), updated_at=created,
                )  # fmt: skip
                add(ArrangementVersion, id=_id("arv"), arrangement_id=arrangement["id"],
                    version=1, services=request["services"], rates_pence={},
                    minutes_per_week=request["minutes_per_week"], schedule=[],
                    schedule_mask="0" * 96, effective_from=created.date(),
                    created_by="bench")  # fmt: skip
                arrangements.append(arrangement)
    for i in range(n_invoices + n_invoices // 30):
        arrangement = rng.choice(arrangements)
        approved = _at(YEAR_START, rng.uniform(0, 365 * 24))
        days = min(int(rng.expovariate(1 / 4)), 60)
        paid = _at(approved, days * 24 + 1) if i < n_invoices else None
        if paid and paid > NOW:
            paid, days = None, None
        add(Invoice, id=_id("inv"), number=f"INV-{i:07d}", arrangement_id=arrangement["id"],
            provider_id=arrangement["provider_id"], agency_id=arrangement["agency_id"],
            council_id=council["id"], funding="isf", period_start=approved.date(),
            period_end=approved.date(), lines=[], total_pence=rng.randint(1800, 40000),
            status="paid" if paid else "approved", approved_at=approved, paid_at=paid,
            days_to_paid=days if paid else None, created_at=approved,
            updated_at=approved)  # fmt: skip
    for provider in providers:
        del provider["agency"]
    for table in Base.metadata.sorted_tables:
        model_rows = next((r for m, r in rows.items() if m.__table__ is table), None)
        if model_rows:
            session.execute(insert(table), model_rows)
            print(f"  {table.name}: {len(model_rows):,} rows")
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()  # statistics gathered in a rolled-back transaction are lost
    return {"council_id": council["id"], "agency_id": agencies[0]["id"]}


def plan_indexes(session: Session, statements: list[tuple[str, object]]) -> tuple[set, set]:
    """Index names and sequentially scanned tables in the plans of ``statements``."""
    indexes, scans = set(), set()

    def walk(node: dict) -> None:
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if node.get("Node Type") == "Seq Scan":
            scans.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    for statement, parameters in statements:
        result = session.connection().exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + statement, parameters
        )
        plan = result.scalar()
        walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    return indexes, scans


def time_reports(session: Session, principal: Principal, label: str, runs: int) -> None:
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    engine = session.get_bind()
    for name, report in REPORTS.items():
        timings = []
        for run in range(runs):
            if run == 0:
                event.listen(engine, "before_cursor_execute", capture)
            started = time.perf_counter()
            scope = resolve_scope(
                session, principal, period_start=YEAR_START.date(), period_end=NOW.date(), now=NOW
            )
            report.compute(session, scope)
            timings.append(time.perf_counter() - started)
            if run == 0:
                event.remove(engine, "before_cursor_execute", capture)
        indexes, scans = plan_indexes(session, captured)
        captured.clear()
        print(f"{label:8} {name:15} median {statistics.median(timings) * 1000:7.1f} ms"
              f"  (max {max(timings) * 1000:.1f})")  # fmt: skip
        print(f"{'':24} indexes: {', '.join(sorted(indexes)) or '-'}")
        print(f"{'':24} seq scans: {', '.join(sorted(scans)) or '-'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"agency_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            started = time.perf_counter()
            ids = populate(session, random.Random(8), args.scale)
            print(f"populated in {time.perf_counter() - started:.0f} s")
            auditor = Principal(Kind.AUDITOR, "usr_bench", council_id=ids["council_id"])
            manager = Principal(Kind.MANAGER, "usr_bench", agency_id=ids["agency_id"])
            time_reports(session, auditor, "council", args.runs)
            time_reports(session, manager, "agency", args.runs)
        engine.dispose()
    finally:
        from agency.db import dispose_engines

        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
