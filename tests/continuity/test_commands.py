"""The CLI for the system's cron without Redis: ``flask plan-visits`` and
``flask mark-missed-visits`` do the periodic jobs' work in the command's process."""

import datetime as dt

from agency.visits.planned_models import PlannedStatus
from tests.continuity.continuity_helpers import planned, planned_world


def test_the_commands_plan_and_mark_missed_without_a_worker(app, session):
    # Four days back: three give only two overdue 10:00 visits between 10:00 and 13:00 UTC.
    world = planned_world(session, days_back=4)
    runner = app.test_cli_runner()
    planned_out = runner.invoke(args=["plan-visits"])
    assert planned_out.exit_code == 0, planned_out.output
    assert "arrangements=" in planned_out.output and "added=" in planned_out.output
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=120)
    overdue = [p.id for p in planned(session, world) if p.ends_at <= cutoff]
    assert len(overdue) >= 3
    marked = runner.invoke(args=["mark-missed-visits"])
    assert marked.exit_code == 0, marked.output
    assert f"marked {len(overdue)} planned visits missed" in marked.output
    statuses = {p.id: p.status for p in planned(session, world)}
    assert {statuses[i] for i in overdue} == {PlannedStatus.MISSED}
    again = runner.invoke(args=["mark-missed-visits"])
    assert "marked 0 planned visits missed" in again.output
