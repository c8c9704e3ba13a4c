"""Entry points that a scheduler calls: `rq cron agency/cron.py`, or `flask replan` from cron."""

from __future__ import annotations

from sqlalchemy import select

from agency.db import session_scope


def replan_all_agencies() -> int:
    """Queue a batch re-plan for every agency (runs in an RQ worker or a CLI process)."""
    from flask import current_app, has_app_context

    from agency import create_app
    from agency.directory.models import Agency
    from agency.introductions.match_jobs import enqueue_replan

    app = current_app if has_app_context() else create_app()  # type: ignore[assignment]
    with app.app_context():
        url = app.extensions["agency"].settings.database_url
        with session_scope(url) as session:
            agencies = list(session.scalars(select(Agency).order_by(Agency.name)))
            for agency in agencies:
                enqueue_replan(session, agency)
            session.commit()
    return len(agencies)
