"""``flask --app wsgi plan-visits`` and ``mark-missed-visits``: continuity's periodic work
from the system's cron when there is no Redis (docs/continuity.md).

Each runs the work in this process by default; with ``--queue`` it records and sends one
run of the same job to the worker instead (as ``rq cron`` does) and prints its job id.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from agency.db import session_scope
from agency.visits.continuity import MISSED_JOB, mark_missed
from agency.visits.planning import PLAN_JOB, plan_all
from agency.worker import enqueue_periodic


def _queued(name: str) -> str:
    return enqueue_periodic(name, current_app.extensions["agency"].container)


def register_visit_commands(app: Flask) -> None:
    @app.cli.command("plan-visits")
    @click.option("--queue", is_flag=True, help="Send the job to the worker instead.")
    def plan_visits(queue: bool) -> None:
        """Extend every live arrangement's planned visits to the 4-week horizon (hourly)."""

        if queue:
            click.echo(f"queued job {_queued(PLAN_JOB)}")
            return
        settings = current_app.extensions["agency"].settings
        with session_scope(settings.database_url) as session:
            totals = plan_all(session)
        click.echo(" ".join(f"{key}={value}" for key, value in totals.items()))

    @app.cli.command("mark-missed-visits")
    @click.option("--queue", is_flag=True, help="Send the job to the worker instead.")
    def mark_missed_visits(queue: bool) -> None:
        """Mark planned visits with nothing logged VISIT_MISSED_AFTER_MINUTES after their
        window missed, and owe each partner a visit.missed webhook (every 5 minutes)."""

        if queue:
            click.echo(f"queued job {_queued(MISSED_JOB)}")
            return
        settings = current_app.extensions["agency"].settings
        with session_scope(settings.database_url) as session:
            count = mark_missed(session, settings.visit_missed_after_minutes)
        click.echo(f"marked {count} planned visits missed")
