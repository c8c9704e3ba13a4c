"""Every list of planned visits reads an index range of one owner's visits, not a history.

Three agencies' year of planned visits (~38,000 rows, two a day per arrangement,
statuses and cover as in life) are written in one INSERT ... SELECT and analysed; then
each query the service runs is EXPLAINed exactly as it was sent (statement and parameters
captured), with sequential scans allowed, so the plans are the ones PostgreSQL would
choose for that data. Timings: bench/bench_planned_visits.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from agency.access import Kind, Principal
from agency.dates import LONDON
from agency.visits import continuity, cover
from agency.visits.models import Visit
from agency.visits.planned_models import PlannedStatus, PlannedVisit
from agency.visits.planning import _planning_covers
from tests.factories import (
    make_agency,
    make_arrangement,
    make_partner,
    make_provider,
    make_seeker,
)

AGENCIES, PROVIDERS, SEEKERS_EACH, DAYS_BACK = 3, 4, 4, 365

# Two visits a day per arrangement from DAYS_BACK days ago to four weeks ahead. Past
# visits: 3 % missed (acknowledged by the manager unless in the last week), 3 % cancelled,
# the rest done; from today: 3 % cancelled, the rest planned. 1.5 % went to a cover
# provider (accepted in the past, offered from today).
SEED_SQL = """
INSERT INTO planned_visits (id, arrangement_id, provider_id, agency_id, council_id,
    partner_client_id, seeker_id, terms_version, date, start_time, end_time, starts_at,
    ends_at, minutes, status, missed_at, acknowledged_at, acknowledged_by, cancelled_at,
    cancelled_by, cancel_reason, cover_provider_id, cover_status, cover_offered_by,
    created_at, updated_at)
SELECT 'pvs_' || substr(md5(a.id || s.day::text || s.hour::text), 1, 20), a.id,
       a.provider_id, a.agency_id, a.council_id, a.partner_client_id, a.seeker_id, 1, s.day,
       to_char(make_time(s.hour, 0, 0), 'HH24:MI'),
       to_char(make_time(s.hour + 1, 0, 0), 'HH24:MI'),
       s.starts_at, s.starts_at + interval '1 hour', 60,
       CASE WHEN s.day >= :today AND s.fate < 0.03 THEN 'cancelled'
            WHEN s.day >= :today THEN 'planned'
            WHEN s.fate < 0.03 THEN 'missed'
            WHEN s.fate < 0.06 THEN 'cancelled'
            ELSE 'done' END,
       CASE WHEN s.day < :today AND s.fate < 0.03 THEN s.starts_at + interval '3 hours' END,
       CASE WHEN s.day < :today - 7 AND s.fate < 0.03 THEN s.starts_at + interval '1 day' END,
       CASE WHEN s.day < :today - 7 AND s.fate < 0.03 THEN 'usr_manager' END,
       CASE WHEN s.fate >= 0.03 AND s.fate < 0.06 OR s.day >= :today AND s.fate < 0.03
            THEN s.starts_at - interval '2 days' END,
       CASE WHEN s.fate >= 0.03 AND s.fate < 0.06 OR s.day >= :today AND s.fate < 0.03
            THEN 'usr_provider' END,
       CASE WHEN s.fate >= 0.03 AND s.fate < 0.06 OR s.day >= :today AND s.fate < 0.03
            THEN 'Unwell' END,
       CASE WHEN s.cover < 0.015 THEN c.cover_provider_id END,
       CASE WHEN s.cover < 0.015 AND s.day < :today THEN 'accepted'
            WHEN s.cover < 0.015 THEN 'offered' END,
       CASE WHEN s.cover < 0.015 THEN 'usr_manager' END,
       s.starts_at - interval '28 days', s.starts_at - interval '28 days'
FROM unnest(CAST(:arrangement_ids AS text[]), CAST(:cover_provider_ids AS text[]),
            CAST(:first_hours AS int[])) AS c(arrangement_id, cover_provider_id, first_hour)
JOIN arrangements a ON a.id = c.arrangement_id
CROSS JOIN LATERAL (
    SELECT d::date AS day, h AS hour, random() AS fate, random() AS cover,
           (d::date + make_time(h, 0, 0)) AT TIME ZONE 'Europe/London' AS starts_at
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date),
                         interval '1 day') AS d,
         unnest(ARRAY[c.first_hour, c.first_hour + 6]) AS h
) s
"""


@dataclass
class History:
    manager: Principal
    partner: Principal
    provider_id: str
    cover_provider: Principal
    seeker_id: str
    arrangement_id: str
    provider_ids: list[str]
    today: dt.date


def seed_history(session: Session) -> History:
    """Three agencies, each with 4 providers and 4 seekers per provider, and their plans."""
    today = dt.datetime.now(LONDON).date()
    partner, _ = make_partner(session)
    arrangements, covers, hours, providers_of = [], [], [], []
    for _ in range(AGENCIES):
        agency = make_agency(session)
        providers = [make_provider(session, agency) for _ in range(PROVIDERS)]
        providers_of.append((agency, providers))
        for n, provider in enumerate(providers):
            for k in range(SEEKERS_EACH):
                seeker = make_seeker(session, partner.id)
                arrangement = make_arrangement(session, agency, provider, seeker)
                arrangements.append(arrangement)
                covers.append(providers[(n + 1) % PROVIDERS].id)
                hours.append(8 + k)
    session.execute(text("SELECT setseed(0.19)"))
    session.execute(
        text(SEED_SQL),
        {
            "arrangement_ids": [a.id for a in arrangements],
            "cover_provider_ids": covers,
            "first_hours": hours,
            "first_day": today - dt.timedelta(days=DAYS_BACK),
            "last_day": today + dt.timedelta(days=28),
            "today": today,
        },
    )
    session.execute(text("ANALYZE planned_visits"))
    agency, providers = providers_of[0]
    first = arrangements[0]
    return History(
        manager=Principal(Kind.MANAGER, "usr_manager", agency_id=agency.id),
        partner=Principal(Kind.PARTNER, partner.id),
        provider_id=providers[0].id,
        cover_provider=Principal(Kind.PROVIDER, "usr_cover", provider_id=providers[1].id),
        seeker_id=first.seeker_id,
        arrangement_id=first.id,
        provider_ids=[p.id for _, ps in providers_of for p in ps],
        today=today,
    )


def plans(session: Session, run: Callable[[], Any]) -> list[str]:
    """The plan of each planned_visits query ``run`` sends, as PostgreSQL would run it."""
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "planned_visits" in statement:
            captured.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert captured, "no planned_visits query was sent"
    return [
        "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, parameters))
        for sql, parameters in captured
    ]


def reads_range(plan: str, allowed: set[str], bounded: bool = True) -> set[str]:
    """The plan reads planned_visits through indexes in ``allowed`` only, never a sequential
    scan; ``bounded``: each index is read for a ``starts_at`` range, not an owner's history.
    Returns the indexes used."""
    assert "Seq Scan on planned_visits" not in plan, plan
    used, reading = set(), None
    for line in plan.splitlines():
        named = [w for w in line.split() if w.startswith(("ix_planned", "uq_planned"))]
        if named:
            used.add(named[0])
            reading = named[0]
        elif reading and "Index Cond:" in line:
            assert not bounded or "starts_at >" in line, f"{reading} read unbounded:\n{plan}"
            reading = None
    assert used and used <= allowed, plan
    return used


@pytest.mark.postgres
def test_each_planned_visit_query_reads_one_owners_range_by_starts_at(session):
    history = seed_history(session)
    manager, today = history.manager, history.today
    a_month_ago = (today - dt.timedelta(days=30), today - dt.timedelta(days=24))
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), LONDON)
    target = session.scalars(
        select(PlannedVisit)
        .where(
            PlannedVisit.provider_id == history.provider_id,
            PlannedVisit.starts_at >= tomorrow,
            PlannedVisit.status == PlannedStatus.PLANNED,
        )
        .order_by(PlannedVisit.starts_at)
        .limit(1)
    ).one()

    def agency_list(filters: dict[str, Any], limit: int) -> Callable[[], Any]:
        stmt = continuity.planned_visits_for(manager, filters).limit(limit)
        return lambda: session.scalars(stmt).all()

    by_agency = "ix_planned_visits_agency_starts_at"
    by_agency_status = "ix_planned_visits_agency_status_starts_at"
    by_provider = "ix_planned_visits_provider_starts_at"
    by_cover_provider = "ix_planned_visits_cover_provider_starts_at"
    # (the query, the indexes it may read, whether each read is a starts_at range)
    cases: dict[str, tuple[Callable[[], Any], set[str], bool]] = {
        # In starts_at order, stopping at the page's end (the total is counted apart).
        "the agency's list, first page": (agency_list({}, 20), {by_agency}, False),
        "the agency's list for a week": (
            agency_list({"date_from": a_month_ago[0], "date_to": a_month_ago[1]}, 20),
            {by_agency},
            True,
        ),
        # Only the agency's missed visits still waiting for a manager (those of the last
        # week here), in starts_at order: never the acknowledged history before them.
        "the missed list": (
            agency_list({"status": "missed", "unacknowledged": True}, 10),
            {"ix_planned_visits_agency_missed_open"},
            False,
        ),
        "cancelled visits needing cover": (
            agency_list({"status": "cancelled", "date_from": today}, 50),
            {by_agency_status},
            True,
        ),
        "the provider's affected visits": (
            lambda: session.scalars(
                cover.affected_visits(session, manager, history.provider_id)
            ).all(),
            # The provider's visits from today, or the agency's planned and cancelled ones
            # from today, whichever PostgreSQL reckons fewer: both ranges, not histories.
            {by_provider, by_agency_status},
            True,
        ),
        "a cover provider's offers": (
            lambda: session.scalars(cover.cover_offers_for(history.cover_provider)).all(),
            {by_cover_provider},
            True,
        ),
        "a seeker's upcoming visits": (
            lambda: session.scalars(
                continuity.upcoming_for_seeker(session, history.partner, history.seeker_id)
            ).all(),
            {"ix_planned_visits_seeker_starts_at"},
            True,
        ),
        # One range per side of the OR: providers' own visits, and visits they cover.
        "who is busy at a visit's time": (
            lambda: cover._busy(session, target, history.provider_ids),
            {by_provider, by_cover_provider},
            True,
        ),
    }
    used = {}
    for name, (run, allowed, bounded) in cases.items():
        [plan] = plans(session, run)
        try:
            used[name] = reads_range(plan, allowed, bounded)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    assert used["who is busy at a visit's time"] == {by_provider, by_cover_provider}

    visit = Visit(arrangement_id=history.arrangement_id, date=today)
    [first] = plans(session, lambda: _planning_covers(session, visit))
    assert "uq_planned_visits_arrangement_start" in first, first
    assert "Sort" not in first, first  # the index hands over the earliest start first
