"""Planned visits from an arrangement's schedule: recurrence, clock changes, re-planning,
and logged visits matched to them."""

import datetime as dt

from sqlalchemy import select

from agency.introductions.arrangements import new_version
from agency.visits.planned_models import PlannedStatus, PlannedVisit
from agency.visits.planning import occurrences, plan_all, plan_arrangement, weekly_plan
from tests.factories import principal_of
from tests.visits.visit_helpers import days_ago, log, make_world

MONDAY_AND_SUNDAY_NINE = [
    {"weekday": 0, "start": "09:00", "end": "10:00"},
    {"weekday": 6, "start": "09:00", "end": "10:00"},
]
WEEKDAY_TEN = [{"weekday": d, "start": "10:00", "end": "11:00"} for d in range(5)]


def _utc(*args):  # type: ignore[no-untyped-def]
    return dt.datetime(*args, tzinfo=dt.UTC)


def _planned(session, arrangement_id):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(PlannedVisit)
        .where(PlannedVisit.arrangement_id == arrangement_id)
        .order_by(PlannedVisit.starts_at)
    ).all()


def _plan_nine_o_clocks(session, start_date, now, horizon_days):  # type: ignore[no-untyped-def]
    """The planned visits of a Monday-and-Sunday 09:00 arrangement from ``start_date``,
    planned at ``now`` for ``horizon_days``."""
    world = make_world(
        session, schedule=MONDAY_AND_SUNDAY_NINE, start_date=start_date, minutes_per_week=120
    )
    plan_arrangement(session, world.arrangement, now=now, horizon_days=horizon_days)
    session.commit()
    return _planned(session, world.arrangement.id)


def test_minutes_are_spread_over_the_windows_each_visit_starting_at_its_window():
    windows = [
        {"weekday": 2, "start": "14:00", "end": "18:00"},
        {"weekday": 0, "start": "09:00", "end": "09:30"},
        {"weekday": 4, "start": "10:00", "end": "13:00"},
    ]
    plan = weekly_plan(windows, 300)
    assert plan == [(0, "09:00", "09:30"), (2, "14:00", "16:15"), (4, "10:00", "12:15")]
    assert weekly_plan(windows, 0) == []
    assert weekly_plan(windows, 10_000)[1] == (2, "14:00", "18:00")  # never beyond the window


def test_a_nine_o_clock_visit_stays_nine_in_london_across_the_spring_clock_change(session):
    rows = _plan_nine_o_clocks(session, dt.date(2027, 3, 1), _utc(2027, 3, 20, 12), 17)
    assert [(r.date, r.start_time, r.end_time) for r in rows] == [
        (dt.date(2027, 3, 21), "09:00", "10:00"),
        (dt.date(2027, 3, 22), "09:00", "10:00"),
        (dt.date(2027, 3, 28), "09:00", "10:00"),  # the clocks go forward at 01:00 UTC
        (dt.date(2027, 3, 29), "09:00", "10:00"),
        (dt.date(2027, 4, 4), "09:00", "10:00"),
        (dt.date(2027, 4, 5), "09:00", "10:00"),
    ]
    assert [r.starts_at for r in rows] == [
        _utc(2027, 3, 21, 9),
        _utc(2027, 3, 22, 9),
        _utc(2027, 3, 28, 8),
        _utc(2027, 3, 29, 8),
        _utc(2027, 4, 4, 8),
        _utc(2027, 4, 5, 8),
    ]
    assert {r.minutes for r in rows} == {60}


def test_a_nine_o_clock_visit_stays_nine_in_london_across_the_autumn_clock_change(session):
    rows = _plan_nine_o_clocks(session, dt.date(2027, 10, 1), _utc(2027, 10, 23, 12), 10)
    assert [(r.date, r.starts_at, r.ends_at) for r in rows] == [
        (dt.date(2027, 10, 24), _utc(2027, 10, 24, 8), _utc(2027, 10, 24, 9)),
        (dt.date(2027, 10, 25), _utc(2027, 10, 25, 8), _utc(2027, 10, 25, 9)),
        (dt.date(2027, 10, 31), _utc(2027, 10, 31, 9), _utc(2027, 10, 31, 10)),  # GMT again
        (dt.date(2027, 11, 1), _utc(2027, 11, 1, 9), _utc(2027, 11, 1, 10)),
    ]


def test_a_visit_inside_the_missing_spring_hour_lasts_its_real_length(session):
    night = [{"weekday": 6, "start": "00:30", "end": "02:30"}]
    world = make_world(session, schedule=night, start_date=dt.date(2027, 3, 1))
    plan_arrangement(session, world.arrangement, now=_utc(2027, 3, 27), horizon_days=2)
    [row] = _planned(session, world.arrangement.id)
    assert (row.date, row.start_time, row.end_time, row.minutes) == (
        dt.date(2027, 3, 28),
        "00:30",
        "02:30",
        60,  # 01:00-02:00 never happens that night
    )


def test_the_horizon_is_four_weeks_and_planning_again_adds_nothing(session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    now = _utc(2026, 12, 7, 6)  # a Monday morning
    first = plan_arrangement(session, world.arrangement, now=now)
    session.commit()
    assert first == {"added": 20, "changed": 0, "removed": 0}
    assert plan_arrangement(session, world.arrangement, now=now) == {
        "added": 0,
        "changed": 0,
        "removed": 0,
    }
    later = plan_arrangement(session, world.arrangement, now=now + dt.timedelta(days=7))
    assert later["added"] == 5  # the horizon moved on a week


def test_a_new_version_re_plans_future_visits_and_leaves_past_ones(session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    plan_arrangement(session, world.arrangement, now=week_ago)
    session.commit()
    past_before = [
        (r.id, r.starts_at) for r in _planned(session, world.arrangement.id) if r.ends_at < week_ago
    ]
    new_version(
        session,
        principal_of(session, world.manager),
        world.arrangement.id,
        {
            "schedule": [{"weekday": 1, "start": "14:00", "end": "16:00"}],
            "minutes_per_week": 120,
            "effective_from": days_ago(0),
            "change_reason": "afternoons suit better",
        },
    )
    rows = _planned(session, world.arrangement.id)
    now = dt.datetime.now(dt.UTC)
    past = [r for r in rows if r.starts_at <= now]
    future = [r for r in rows if r.starts_at > now]
    assert {r.start_time for r in past} == {"10:00"}
    assert [(r.id, r.starts_at) for r in past if r.ends_at < week_ago] == past_before
    assert future and {(r.date.weekday(), r.start_time, r.end_time) for r in future} == {
        (1, "14:00", "16:00")
    }
    assert {r.terms_version for r in future} == {2}


def test_ending_an_arrangement_removes_its_future_planned_visits(session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    plan_arrangement(session, world.arrangement)
    session.commit()
    from agency.introductions.arrangements import change_status
    from agency.introductions.models import ArrangementStatus

    change_status(
        session,
        principal_of(session, world.manager),
        world.arrangement.id,
        ArrangementStatus.ENDED,
        "moved away",
    )
    now = dt.datetime.now(dt.UTC)
    assert [r for r in _planned(session, world.arrangement.id) if r.starts_at > now] == []


def test_the_periodic_planner_plans_every_active_arrangement(session):
    one = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    two = make_world(session, schedule=MONDAY_AND_SUNDAY_NINE, minutes_per_week=120)
    totals = plan_all(session)
    assert totals["arrangements"] >= 2
    assert len(_planned(session, one.arrangement.id)) >= 19
    assert len(_planned(session, two.arrangement.id)) >= 7


def test_a_logged_visit_matches_its_planned_visit_and_an_extra_one_is_flagged(client, session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    plan_arrangement(session, world.arrangement, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    session.commit()
    day = next(n for n in range(1, 8) if days_ago(n).weekday() < 5)
    on_plan = log(client, world, day=day, start="10:20", end="11:10")
    assert on_plan.status_code == 201, on_plan.json
    assert "unplanned" not in on_plan.json["flags"]
    [planned] = [r for r in _planned(session, world.arrangement.id) if r.date == days_ago(day)]
    session.refresh(planned)
    assert (planned.status, planned.visit_id) == (PlannedStatus.DONE, on_plan.json["id"])
    extra = log(client, world, day=day, start="15:00", end="16:00")
    assert extra.status_code == 201
    assert "unplanned" in extra.json["flags"]
    deleted = client.delete(f"/visits/{on_plan.json['id']}", headers=world.provider_headers)
    assert deleted.status_code == 204
    session.refresh(planned)
    assert (planned.status, planned.visit_id) == (PlannedStatus.PLANNED, None)


def test_a_visit_matches_a_planned_one_starting_up_to_an_hour_either_side(client, session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    plan_arrangement(session, world.arrangement, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    session.commit()
    early, late, too_late = [n for n in range(1, 8) if days_ago(n).weekday() < 5][:3]
    cases = [(early, "09:00", True), (late, "11:00", True), (too_late, "11:01", False)]
    for day, start, matches in cases:
        response = log(client, world, day=day, start=start, end="11:30")
        assert response.status_code == 201, response.json
        [planned] = [r for r in _planned(session, world.arrangement.id) if r.date == days_ago(day)]
        session.refresh(planned)
        assert (planned.visit_id == response.json["id"]) is matches, (day, start)
        assert ("unplanned" in response.json["flags"]) is not matches, (day, start)


def test_a_visit_after_midnight_does_not_match_the_evening_before(client, session):
    """Within the tolerance of the day before's 23:30, but on another London date."""
    late_evening = [{"weekday": d, "start": "23:30", "end": "24:00"} for d in range(7)]
    world = make_world(session, schedule=late_evening, minutes_per_week=7 * 30)
    plan_arrangement(session, world.arrangement, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    session.commit()
    response = log(client, world, day=3, start="00:00", end="00:30")
    assert response.status_code == 201, response.json
    assert "unplanned" in response.json["flags"]
    evening_before = [r for r in _planned(session, world.arrangement.id) if r.date == days_ago(4)]
    session.refresh(evening_before[0])
    assert evening_before[0].visit_id is None


def test_visits_logged_before_planning_began_are_not_judged(client, session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    plan_arrangement(session, world.arrangement)
    session.commit()
    response = log(client, world, day=10, start="15:00", end="16:00")
    assert "unplanned" not in response.json["flags"]


def test_occurrences_follow_each_version_from_its_effective_date(session):
    world = make_world(session, schedule=WEEKDAY_TEN, minutes_per_week=300)
    rows = occurrences(world.arrangement.versions, dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    assert [(d.weekday(), s, e, v) for d, s, e, v in rows] == [
        (n, "10:00", "11:00", 1) for n in range(5)
    ]
