"""Reports over a year of a city's data on PostgreSQL: median of 5 runs, and the indexes used.

``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python
bench/bench_reports.py`` (``--scale 0.1`` for a tenth, ``--runs``) creates a scratch database
on that server, migrates it, fills it, times every report of ``agency.reports.registry`` for
the whole council (an auditor), for one agency (a manager), and for the council filtered to one
neighbourhood (Easton) and to one service (companionship), over the year to NOW; prints which
indexes and sequential scans PostgreSQL's plans use (EXPLAIN), and drops the database.

The data set is Bristol in its second year (requests from the last 15 months):

- 4 agencies, each covering a patch of Bristol's real neighbourhoods (29 wards with their
  outcodes), and 4 neighbourhoods the council lists but no agency covers;
- 2,000 providers based at a real outcode's centroid (``matching/data/gb-outcodes.tsv``),
  jittered by ~1.5 km: 60 % in the city, then South Glos / BANES, North Somerset and the
  South West, and a few from elsewhere; their local-spend circle comes from
  ``agency.directory.places.locality_of`` as for a real provider. A provider is listed with
  the agency whose patch it lives in (from outside the city, any agency);
- 6,000 seekers in those neighbourhoods (4 % from outcodes no neighbourhood lists), 80 % with
  equality monitoring; 11,000 care requests at their seeker's outcode, ~39,000 suggestions,
  ~7,700 introductions, ~4,300 arrangements (75 % active, 20 % ended, 5 % paused) and
  ~10,000 ONS4 assessments (baseline, 6 weeks, then quarterly);
- generated in SQL from the arrangements (``INSERT ... SELECT`` over ``generate_series``):
  ~505,000 planned visits (each week's minutes in 1-7 visits of about an hour; 94 % done,
  3 % missed, 3 % cancelled, 1.5 % offered to a cover provider), ~475,000 visits (3 %
  flagged outside the schedule, 1 % made by the cover provider; confirmed, a few disputed or
  still logged), ~59,000 fortnightly timesheets (approved 3 days after the fortnight, the
  latest still submitted or queried) and ~58,000 invoices of the approved ones, at the
  arrangement's hourly rate, paid a few days after approval (exponential, mean 4, at most 60);
  a seeker's rating on 60 % of confirmed visits (~280,000), through the feedback triggers.

Last, what every match job reads of an agency's ratings (``agency_ratings``, the kept totals)
against the query it replaced (every rating grouped by provider), in the same run.

Built in about 50 s on the 2-core development machine (most of it the visits' indexes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
import matching  # noqa: E402
from agency.access import Kind, Principal  # noqa: E402
from agency.accounts.models import PartnerClient, User  # noqa: E402
from agency.db import Base  # noqa: E402
from agency.directory.places import locality_of  # noqa: E402
from agency.equality import models as equality  # noqa: E402
from agency.migrate import upgrade  # noqa: E402
from agency.reports.registry import REPORTS  # noqa: E402
from agency.reports.scope import resolve_scope  # noqa: E402
from bench.scratch import scratch_postgres  # noqa: E402

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


# Bristol's neighbourhoods (real ward names, their outcodes) by the agency covering them; the
# last four are listed by the council but no agency covers them yet (unmet need's "not covered").
PATCHES = {
    "North Bristol": [("Southmead", ["BS10"]), ("Henbury & Brentry", ["BS10"]),
                      ("Horfield", ["BS7"]), ("Lockleaze", ["BS7"]), ("Bishopston", ["BS7"]),
                      ("Redland", ["BS6"]), ("Cotham", ["BS6"]),
                      ("Westbury-on-Trym", ["BS9"]), ("Stoke Bishop", ["BS9"])],
    "East Bristol": [("Barton Hill", ["BS5"]), ("Lawrence Hill", ["BS5", "BS2"]),
                     ("Easton", ["BS5"]), ("St George", ["BS5"]), ("Eastville", ["BS5"]),
                     ("Frome Vale", ["BS16"]), ("Hillfields", ["BS16"]), ("St Pauls", ["BS2"])],
    "South Bristol": [("Bedminster", ["BS3"]), ("Southville", ["BS3"]),
                      ("Windmill Hill", ["BS3"]), ("Knowle", ["BS4"]), ("Brislington", ["BS4"]),
                      ("Hengrove", ["BS14"]), ("Whitchurch Park", ["BS14"]),
                      ("Bishopsworth", ["BS13"])],
    "Central & West": [("Central", ["BS1"]), ("Hotwells & Harbourside", ["BS8"]),
                       ("Clifton", ["BS8"]), ("Clifton Down", ["BS8"])],
    None: [("Avonmouth & Lawrence Weston", ["BS11"]), ("Shirehampton", ["BS11"]),
           ("Hartcliffe & Withywood", ["BS13"]), ("Stockwood", ["BS14"])],
}  # fmt: skip
# Outcodes of requests from places no neighbourhood lists (South Glos, North Somerset).
UNLISTED = ["BS15", "BS30", "BS34", "BS20", "BS31", "BS48"]
# Where providers are based, by local-spend circle (the circle comes from the outcode's
# centroid through agency.directory.places.locality_of, as for a real provider).
PROVIDER_BASES = (
    [(oc, 6) for oc in ["BS1", "BS2", "BS3", "BS4", "BS5", "BS6", "BS7", "BS8", "BS9", "BS10",
                        "BS11", "BS13", "BS14"]]
    + [(oc, 3) for oc in ["BS15", "BS16", "BS30", "BS31", "BS32", "BS34", "BS36", "BS37",
                          "BA1", "BA2"]]
    + [(oc, 2) for oc in ["BS20", "BS21", "BS22", "BS48", "BS49", "GL1", "TA1"]]
    + [(oc, 1) for oc in ["CF10", "NP20", "B1", "SW1A", "M1"]]
)  # fmt: skip
EQUALITY = {
    field: [*enum, None]
    for field, enum in [("age_band", equality.AgeBand), ("sex", equality.Sex),
                        ("gender_identity", equality.GenderIdentity),
                        ("ethnic_group", equality.EthnicGroup),
                        ("disability", equality.Disability), ("religion", equality.Religion),
                        ("sexual_orientation", equality.SexualOrientation)]
}  # fmt: skip
END_REASONS = ["Moved into residential care", "Needs met", "Moved away", "Chose another provider",
               "Provider stopped trading", "Died"]  # fmt: skip


def _near(outcode: str, rng: random.Random, km: float) -> tuple[float, float]:
    """A point within about ``km`` of the outcode's published centroid."""
    lat, lon = matching.outcode_table().latlon(outcode)
    return (round(lat + rng.gauss(0, km / 111), 5), round(lon + rng.gauss(0, km / 69), 5))


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _at(start: dt.datetime, hours: float) -> dt.datetime:
    return start + dt.timedelta(hours=hours)


def populate(session: Session, rng: random.Random, scale: float) -> dict[str, object]:
    """Bulk INSERTs of one council's year; returns ids the timings need."""
    n_providers, n_seekers, n_requests = (int(x * scale) for x in (2000, 6000, 11000))
    rows: dict[type, list[dict]] = {}

    def add(model: type, **values: object) -> dict:
        rows.setdefault(model, []).append(values)
        return values

    from agency.directory.models import Agency, Council, Neighbourhood, NeighbourhoodOutcode
    from agency.equality.models import EqualityMonitoring
    from agency.introductions.models import (
        Arrangement,
        ArrangementVersion,
        Introduction,
        Suggestion,
    )  # fmt: skip
    from agency.outcomes.models import WellbeingAssessment
    from agency.providers.models import Provider, ProviderListing, ProviderService
    from agency.seekers.models import CareRequest, CareSeeker

    council = add(Council, id=_id("cnc"), name="Bristol City Council", slug="bristol",
                  area_key="bristol")  # fmt: skip
    agencies, hoods = {}, []
    for number, (agency_name, patch) in enumerate(PATCHES.items()):
        agency = None
        if agency_name:
            agency = add(Agency, id=_id("agy"), council_id=council["id"], name=agency_name,
                         slug=f"agy-{number}")  # fmt: skip
            agencies[agency["id"]] = agency
        for name, outcodes in patch:
            hood = add(Neighbourhood, id=_id("nbh"), council_id=council["id"],
                       agency_id=agency and agency["id"], name=name,
                       slug=name.lower().replace(" & ", "-").replace(" ", "-"))  # fmt: skip
            for outcode in outcodes:
                add(NeighbourhoodOutcode, neighbourhood_id=hood["id"], outcode=outcode)
            hoods.append((hood, outcodes))
    agency_of_outcode = {oc: h["agency_id"] for h, ocs in hoods if h["agency_id"] for oc in ocs}
    partner = add(PartnerClient, id=_id("ptn"), name="Bench partner")
    circles = {oc: locality_of(oc, "bristol") for oc, _ in PROVIDER_BASES}
    bases, weights = zip(*PROVIDER_BASES, strict=True)
    providers = []
    for i in range(n_providers):
        user = add(User, id=_id("usr"), email=f"p{i}@bench.test", password_hash="x",  # noqa: S106
                   role="provider")  # fmt: skip
        outcode = rng.choices(bases, weights)[0]
        lat, lon = _near(outcode, rng, 1.5)
        locality, basis = circles[outcode]
        provider = add(
            Provider, id=_id("prv"), user_id=user["id"], trading_name=f"Provider {i}",
            organisation_type="sole_trader", size=rng.choice(SIZES), sector=rng.choice(SECTORS),
            base_outcode=outcode, lat=lat, lon=lon, locality=locality.value,
            locality_basis=basis, capacity_hours_per_week=float(rng.choice([5, 10, 15, 20, 30])),
        )  # fmt: skip
        # Listed with the agency whose patch they live in; from outside the city, any agency.
        provider["agency"] = agency_of_outcode.get(outcode) or rng.choice(list(agencies))
        providers.append(provider)
        status = "approved" if rng.random() < 0.9 else "applied"
        add(ProviderListing, id=_id("lst"), provider_id=provider["id"],
            agency_id=provider["agency"], council_id=council["id"], status=status)  # fmt: skip
        for key in rng.sample(SERVICES, rng.randint(2, 4)):
            add(ProviderService, provider_id=provider["id"], service_key=key, rate_pence=1900)
    by_agency = {a: [p for p in providers if p["agency"] == a] for a in agencies}
    seekers = []
    for i in range(n_seekers):
        if rng.random() < 0.04:
            hood, outcode = None, rng.choice(UNLISTED)
        else:
            hood, outcodes = rng.choice(hoods)
            outcode = rng.choice(outcodes)
        seeker = add(CareSeeker, id=_id("skr"), partner_client_id=partner["id"],
                     reference=f"r{i}", outcode=outcode)  # fmt: skip
        seekers.append((seeker, hood))
        if rng.random() < 0.8:
            add(EqualityMonitoring, id=_id("eqm"), seeker_id=seeker["id"],
                partner_client_id=partner["id"], recorded_at=NOW, **{
                    field: rng.choice(values) for field, values in EQUALITY.items()})  # fmt: skip
    arrangements = []
    for _ in range(n_requests):
        seeker, hood = rng.choice(seekers)
        agency_id = hood and hood["agency_id"]
        lat, lon = _near(seeker["outcode"], rng, 1.0)
        # A council in its second year: requests from the last 15 months, reports of the last 12.
        created = _at(NOW, -rng.uniform(0, 456 * 24))
        status = rng.choices(["matched", "open", "matching", "closed", "withdrawn"],
                             [55, 15, 10, 15, 5])[0]  # fmt: skip
        if status in ("open", "matching") and created < NOW - dt.timedelta(days=60):
            status = rng.choice([status, "closed", "closed", "closed"])  # most old ones closed
        request = add(
            CareRequest, id=_id("req"), seeker_id=seeker["id"],
            partner_client_id=partner["id"], council_id=council["id"],
            agency_id=agency_id, neighbourhood_id=hood and hood["id"],
            outcode=seeker["outcode"], lat=lat, lon=lon,
            services=rng.sample(SERVICES, rng.randint(1, 2)),
            minutes_per_week=30 * rng.randint(1, 16), windows=[], windows_mask="0" * 96,
            start_date=created.date(), funding="isf", status=status, created_at=created,
            matched_at=None, closed_at=_at(created, rng.uniform(240, 1200))
            if status == "closed" else None,
            updated_at=created,
        )  # fmt: skip
        pool = by_agency.get(agency_id or "", [])
        if not pool or rng.random() > 0.85:
            continue
        for rank in range(5):
            add(Suggestion, id=_id("sug"), care_request_id=request["id"],
                provider_id=rng.choice(pool)["id"], agency_id=agency_id,
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
                provider_id=provider["id"], agency_id=agency_id,
                council_id=council["id"], partner_client_id=partner["id"],
                status=intro_status, approved_by=provider["user_id"],
                respond_by=_at(created, 24 * 7), created_at=_at(created, rng.uniform(2, 96)),
                updated_at=created, decline_reason=rng.choice(REASONS)
                if intro_status.endswith("declined") else None,
            )  # fmt: skip
            if not final:
                continue
            start = created.date() + dt.timedelta(days=rng.randint(3, 14))
            state = rng.choices(["active", "ended", "paused"], [75, 20, 5])[0]
            last = NOW.date() - dt.timedelta(days=1)
            if state != "active" and start < last:
                last = start + dt.timedelta(days=rng.randint(0, (last - start).days))
            ended = dt.datetime.combine(last, dt.time(17), UTC) if state == "ended" else None
            arrangement = add(
                Arrangement, id=_id("arr"), introduction_id=intro["id"],
                care_request_id=request["id"], seeker_id=request["seeker_id"],
                provider_id=provider["id"], agency_id=agency_id,
                council_id=council["id"], partner_client_id=partner["id"], funding="isf",
                status=state, start_date=start, ended_at=ended,
                end_reason=rng.choice(END_REASONS) if ended else None, current_version=1,
                created_at=_at(created, rng.uniform(24, 240)), updated_at=created,
            )  # fmt: skip
            add(ArrangementVersion, id=_id("arv"), arrangement_id=arrangement["id"],
                version=1, services=request["services"], rates_pence={},
                minutes_per_week=request["minutes_per_week"], schedule=[],
                schedule_mask="0" * 96, effective_from=start, created_by="bench")  # fmt: skip
            request["matched_at"] = arrangement["created_at"]
            arrangements.append((arrangement, request, last, rng.choice(pool)))
            if rng.random() < 0.75:
                _assessments(add, WellbeingAssessment, arrangement, start, last, rng)
    for provider in providers:
        del provider["agency"]
    for table in Base.metadata.sorted_tables:
        model_rows = next((r for m, r in rows.items() if m.__table__ is table), None)
        if model_rows:
            session.execute(insert(table), model_rows)
            print(f"  {table.name}: {len(model_rows):,} rows")
    _visits(session, arrangements, rng)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()  # statistics gathered in a rolled-back transaction are lost
    easton = next(h for h, _ in hoods if h["name"] == "Easton")
    return {"council_id": council["id"], "agency_id": next(iter(agencies)), "hood": easton["id"]}


def _assessments(add, model, arrangement, start, last, rng) -> None:  # type: ignore[no-untyped-def]
    """ONS4 at the start of an arrangement, at 6 weeks, then quarterly while it lasts."""
    days, occasion = [0], "baseline"
    while days[-1] + (42 if len(days) == 1 else 91) <= (last - start).days:
        days.append(days[-1] + (42 if len(days) == 1 else 91))
    base = [rng.gauss(5, 2) for _ in range(4)]
    for review, day in enumerate(days):
        gain = review * rng.uniform(0, 0.6)
        score = [base[0] + gain, base[1] + gain, base[2] + gain, base[3] - gain]
        add(model, id=_id("wba"), arrangement_id=arrangement["id"],
            seeker_id=arrangement["seeker_id"], agency_id=arrangement["agency_id"],
            council_id=arrangement["council_id"],
            partner_client_id=arrangement["partner_client_id"], occasion=occasion,
            assessed_on=start + dt.timedelta(days=day), recorded_by="partner",
            **{m: min(10, max(0, round(s + rng.gauss(0, 1)))) for m, s in zip(
                ("life_satisfaction", "worthwhile", "happiness", "anxiety"), score,
                strict=True)})  # fmt: skip
        occasion = "review"


# The planned visits, visits, timesheets and invoices of every arrangement, generated in
# SQL from one row per arrangement: each week from its start to its last day, the weekly
# minutes in 1 to 7 visits (about an hour each) at a fixed hour, Europe/London. 94 % of
# planned visits are made (one in a hundred by a cover provider), 3 % missed, 3 % cancelled;
# 3 % of visits are flagged. Fortnightly timesheets: approved (and invoiced) 3 days after the
# fortnight, submitted (some queried) before that, none yet for the current fortnight.
# Invoices at the arrangement's hourly rate, paid after a few days (exponential, mean 4,
# at most 60) unless that is still to come.
SLOTS_SQL = """
CREATE TEMP TABLE bench_slots AS
SELECT a.*, row_number() OVER () AS n, s.day, s.fate, s.cover,
       (s.day - a.first_day) / 14 AS fortnight,
       ((s.day + make_time(a.hour, 0, 0)) AT TIME ZONE 'Europe/London') AS starts_at,
       'vis_' || substr(md5(a.arrangement_id || s.day || s.k), 1, 20) AS visit_id
FROM bench_arrangements a
CROSS JOIN LATERAL (
    SELECT k, a.first_day + w * 7 + (k * 7) / a.per_week AS day,
           random() AS fate, random() AS cover
    FROM generate_series(0, (a.last_day - a.first_day) / 7) AS w,
         generate_series(0, a.per_week - 1) AS k
) s
WHERE s.day <= a.last_day
"""
SHEETS_SQL = """
CREATE TEMP TABLE bench_sheets AS
SELECT arrangement_id, fortnight, min(provider_id) AS provider_id, min(agency_id) AS agency_id,
       min(council_id) AS council_id, min(partner_client_id) AS partner_client_id,
       min(first_day) + fortnight * 14 AS period_start,
       min(first_day) + fortnight * 14 + 13 AS period_end,
       sum(minutes) FILTER (WHERE fate >= 0.06) AS minutes, min(rate_pence) AS rate_pence,
       'tsh_' || substr(md5(arrangement_id || fortnight), 1, 20) AS id,
       'inv_' || substr(md5(arrangement_id || fortnight), 1, 20) AS invoice_id,
       random() AS roll, least(60, floor(-4 * ln(1 - random())))::int AS days_to_paid
FROM bench_slots GROUP BY arrangement_id, fortnight
HAVING count(*) FILTER (WHERE fate >= 0.06) > 0
   AND min(first_day) + fortnight * 14 + 13 < :today
"""
TIMESHEETS_SQL = """
INSERT INTO timesheets (id, arrangement_id, provider_id, agency_id, council_id,
    partner_client_id, period_start, period_end, status, submitted_at, queried_at,
    query_reason, approved_at, approved_by, invoice_id, version, created_at, updated_at)
SELECT id, arrangement_id, provider_id, agency_id, council_id, partner_client_id,
       period_start, period_end, t.status,
       (period_end + 1) + time '09:00' AT TIME ZONE 'UTC',
       CASE WHEN t.status = 'queried' THEN (period_end + 2) + time '09:00' AT TIME ZONE 'UTC' END,
       CASE WHEN t.status = 'queried' THEN 'Tuesday''s visit is not on the rota' END,
       CASE WHEN t.status = 'approved' THEN (period_end + 3) + time '10:00' AT TIME ZONE 'UTC' END,
       CASE WHEN t.status = 'approved' THEN 'usr_bench' END,
       CASE WHEN t.status = 'approved' THEN invoice_id END,
       1, (period_end + 1) + time '09:00' AT TIME ZONE 'UTC',
       (period_end + 1) + time '09:00' AT TIME ZONE 'UTC'
FROM bench_sheets, LATERAL (SELECT CASE WHEN period_end + 3 < :today THEN 'approved'
                                        WHEN roll < 0.1 THEN 'queried'
                                        ELSE 'submitted' END AS status) t
"""
VISITS_SQL = """
INSERT INTO visits (id, arrangement_id, provider_id, agency_id, council_id, partner_client_id,
    timesheet_id, date, start_time, end_time, starts_at, ends_at, minutes, services, notes,
    flags, status, confirmed_at, disputed_at, dispute_reason, created_by, cover_rates_pence,
    version, created_at, updated_at)
SELECT s.visit_id, s.arrangement_id,
       CASE WHEN s.cover < 0.01 THEN s.cover_provider_id ELSE s.provider_id END,
       s.agency_id, s.council_id, s.partner_client_id, t.id, s.day,
       to_char(make_time(s.hour, 0, 0), 'HH24:MI'),
       to_char(make_time(s.hour, 0, 0) + s.minutes * interval '1 minute', 'HH24:MI'),
       s.starts_at, s.starts_at + s.minutes * interval '1 minute', s.minutes,
       s.services, NULL,
       CASE WHEN s.fate > 0.97 THEN '["outside_schedule"]' ELSE '[]' END::json,
       v.status,
       CASE WHEN v.status = 'confirmed' THEN s.starts_at + interval '1 day' END,
       CASE WHEN v.status = 'disputed' THEN s.starts_at + interval '1 day' END,
       CASE WHEN v.status = 'disputed' THEN 'Left early' END,
       'usr_bench',
       CASE WHEN s.cover < 0.01 THEN json_build_object(s.services->>0, s.rate_pence) END,
       1, s.starts_at + s.minutes * interval '1 minute',
       s.starts_at + s.minutes * interval '1 minute'
FROM bench_slots s
LEFT JOIN bench_sheets t ON t.arrangement_id = s.arrangement_id AND t.fortnight = s.fortnight
CROSS JOIN LATERAL (SELECT CASE
    WHEN t.period_end + 3 < :today THEN 'confirmed'
    WHEN s.fate > 0.99 THEN 'disputed'
    WHEN s.fate > 0.5 OR t.id IS NOT NULL THEN 'confirmed'
    ELSE 'logged' END AS status) v
WHERE s.fate >= 0.06
"""
# The seekers' ratings: 60 % of confirmed visits rated (mostly 4-5 stars). INSERTed in one
# statement, so the triggers keep provider_rating_totals as the service's writes would.
FEEDBACK_SQL = """
INSERT INTO visit_feedback (id, visit_id, arrangement_id, provider_id, agency_id, council_id,
    partner_client_id, seeker_id, side, rating, created_by, created_at)
SELECT 'fbk_' || substr(md5(v.id), 1, 24), v.id, v.arrangement_id, v.provider_id, v.agency_id,
       v.council_id, v.partner_client_id, a.seeker_id, 'seeker',
       (ARRAY[1, 2, 3, 4, 4, 5, 5, 5])[1 + floor(random() * 8)::int], 'usr_bench',
       v.confirmed_at
FROM visits v JOIN arrangements a ON a.id = v.arrangement_id
WHERE v.status = 'confirmed' AND random() < 0.6
"""
PLANNED_SQL = """
INSERT INTO planned_visits (id, arrangement_id, provider_id, agency_id, council_id,
    partner_client_id, seeker_id, terms_version, date, start_time, end_time, starts_at, ends_at,
    minutes, status, visit_id, missed_at, cancelled_at, cancelled_by, cancel_reason,
    cover_provider_id, cover_status, cover_offered_by, cover_answered_at, cover_rates_pence,
    created_at, updated_at)
SELECT 'pvs_' || substr(md5(n::text || 'p'), 1, 20), arrangement_id, provider_id, agency_id,
       council_id, partner_client_id, seeker_id, 1, day,
       to_char(make_time(hour, 0, 0), 'HH24:MI'),
       to_char(make_time(hour, 0, 0) + minutes * interval '1 minute', 'HH24:MI'),
       starts_at, starts_at + minutes * interval '1 minute', minutes,
       CASE WHEN fate < 0.03 THEN 'missed' WHEN fate < 0.06 THEN 'cancelled' ELSE 'done' END,
       CASE WHEN fate >= 0.06 THEN visit_id END,
       CASE WHEN fate < 0.03 THEN starts_at + interval '1 day' END,
       CASE WHEN fate >= 0.03 AND fate < 0.06 THEN starts_at - interval '1 day' END,
       CASE WHEN fate >= 0.03 AND fate < 0.06 THEN 'usr_bench' END,
       CASE WHEN fate >= 0.03 AND fate < 0.06 THEN 'In hospital' END,
       CASE WHEN cover < 0.015 THEN cover_provider_id END,
       CASE WHEN cover < 0.01 AND fate >= 0.06 THEN 'accepted'
            WHEN cover < 0.015 THEN 'declined' END,
       CASE WHEN cover < 0.015 THEN 'usr_bench' END,
       CASE WHEN cover < 0.015 THEN starts_at - interval '2 days' END,
       CASE WHEN cover < 0.015 THEN json_build_object(services->>0, rate_pence) END,
       starts_at - interval '28 days', starts_at
FROM bench_slots
"""
INVOICES_SQL = """
INSERT INTO invoices (id, number, arrangement_id, provider_id, agency_id, council_id, funding,
    period_start, period_end, lines, total_pence, status, approved_at, paid_at, days_to_paid,
    created_at, updated_at)
SELECT b.invoice_id,
       'INV-' || lpad((row_number() OVER (ORDER BY b.period_end, b.id))::text, 7, '0'),
       b.arrangement_id, b.provider_id, b.agency_id, b.council_id, 'isf', b.period_start,
       b.period_end, '[]', (b.minutes * b.rate_pence) / 60,
       CASE WHEN p.paid_at <= :now THEN 'paid' ELSE 'approved' END, t.approved_at,
       CASE WHEN p.paid_at <= :now THEN p.paid_at END,
       CASE WHEN p.paid_at <= :now THEN b.days_to_paid END, t.approved_at, t.approved_at
FROM bench_sheets b
JOIN timesheets t ON t.id = b.id AND t.status = 'approved'
CROSS JOIN LATERAL (SELECT t.approved_at + b.days_to_paid * interval '1 day'
                           + interval '1 hour' AS paid_at) p
"""


def _visits(session: Session, arrangements: list[tuple], rng: random.Random) -> None:
    """Planned visits, visits, timesheets and invoices of ``arrangements``, in SQL."""
    session.execute(text("""
        CREATE TEMP TABLE bench_arrangements (
            arrangement_id text, provider_id text, agency_id text, council_id text,
            partner_client_id text, seeker_id text, cover_provider_id text, services json,
            first_day date, last_day date, per_week int, minutes int, hour int,
            rate_pence int)"""))  # fmt: skip
    values = []
    for arrangement, request, last, cover in arrangements:
        weekly = request["minutes_per_week"]
        per_week = min(7, max(1, round(weekly / 60)))
        values.append({
            "arrangement_id": arrangement["id"], "provider_id": arrangement["provider_id"],
            "agency_id": arrangement["agency_id"], "council_id": arrangement["council_id"],
            "partner_client_id": arrangement["partner_client_id"],
            "seeker_id": arrangement["seeker_id"], "cover_provider_id": cover["id"],
            "services": json.dumps(request["services"]), "first_day": arrangement["start_date"],
            "last_day": last, "per_week": per_week, "minutes": weekly // per_week,
            "hour": rng.randint(8, 18), "rate_pence": rng.choice([1800, 1900, 2000, 2200]),
        })  # fmt: skip
    session.execute(
        text(
            "INSERT INTO bench_arrangements VALUES (:arrangement_id, :provider_id, :agency_id,"
            " :council_id, :partner_client_id, :seeker_id, :cover_provider_id, :services,"
            " :first_day, :last_day, :per_week, :minutes, :hour, :rate_pence)"
        ),
        values,
    )
    session.execute(text("SELECT setseed(0.8)"))
    today = {"today": NOW.date(), "now": NOW}
    for name, sql in [("slots", SLOTS_SQL), ("sheets", SHEETS_SQL), ("timesheets", TIMESHEETS_SQL),
                      ("visits", VISITS_SQL), ("planned_visits", PLANNED_SQL),
                      ("invoices", INVOICES_SQL), ("visit_feedback", FEEDBACK_SQL)]:  # fmt: skip
        started = time.perf_counter()
        count = session.execute(text(sql), today).rowcount
        print(f"  {name}: {count:,} rows ({time.perf_counter() - started:.1f} s)")
    session.execute(text("DROP TABLE bench_slots, bench_sheets, bench_arrangements"))


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


def time_reports(
    session: Session, principal: Principal, label: str, runs: int, **filters: str
) -> None:
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
                session,
                principal,
                period_start=YEAR_START.date(),
                period_end=NOW.date(),
                now=NOW,
                **filters,
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


def time_ratings(session: Session, agency_id: str, runs: int) -> None:
    """What every match job reads of the seekers' ratings (``agency_ratings``), against the
    query it replaced: every seeker rating the agency ever had, grouped by provider."""
    from sqlalchemy import func, select

    from agency.visits.feedback import agency_ratings
    from agency.visits.feedback_models import FeedbackSide, VisitFeedback

    def grouped() -> int:
        return len(
            session.execute(
                select(
                    VisitFeedback.provider_id,
                    func.count(VisitFeedback.rating),
                    func.sum(VisitFeedback.rating),
                )
                .where(
                    VisitFeedback.agency_id == agency_id,
                    VisitFeedback.side == FeedbackSide.SEEKER,
                    VisitFeedback.rating.is_not(None),
                )
                .group_by(VisitFeedback.provider_id)
            ).all()
        )

    rated = session.scalar(
        select(func.count()).where(
            VisitFeedback.agency_id == agency_id, VisitFeedback.side == FeedbackSide.SEEKER
        )
    )
    for label, read in (
        ("every rating grouped (old)", grouped),
        ("kept totals (agency_ratings)", lambda: len(agency_ratings(session, agency_id)[0])),
    ):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            providers = read()
            timings.append(time.perf_counter() - started)
        print(f"ratings  {label:29} median {statistics.median(timings) * 1000:7.1f} ms"
              f"  ({providers} providers, {rated:,} ratings at the agency)")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with scratch_postgres() as url:
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
            # The council with a filter: through the care requests' neighbourhood or services.
            time_reports(session, auditor, "easton", args.runs, neighbourhood_id=ids["hood"])
            time_reports(session, auditor, "service", args.runs, service="companionship")
            time_ratings(session, ids["agency_id"], args.runs)
        engine.dispose()


if __name__ == "__main__":
    main()
