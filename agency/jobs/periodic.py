"""Entry points that a scheduler calls: `rq cron agency/cron.py`, or `flask ...` from cron.

Each records its work as ordinary jobs (rows in `jobs`, then RQ or inline), so a
periodic run is visible and retried like any other job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.db import session_scope


@contextmanager
def _app_session() -> Iterator[tuple[Any, Session]]:
    from flask import current_app, has_app_context

    from agency import create_app

    app = current_app if has_app_context() else create_app()  # type: ignore[assignment]
    with (
        app.app_context(),
        session_scope(app.extensions["agency"].settings.database_url) as session,
    ):
        yield app, session


def enqueue_periodic(name: str) -> str:
    """Queue one run of the registered job ``name`` (readable by admins only: no owner)."""
    with _app_session() as (app, session):
        record = app.extensions["agency"].jobs.enqueue(session, name, {})
        session.commit()
        return record.id


def replan_all_agencies() -> int:
    """Queue a batch re-plan for every agency."""
    from agency.directory.models import Agency
    from agency.introductions.match_jobs import enqueue_replan

    with _app_session() as (_app, session):
        agencies = list(session.scalars(select(Agency).order_by(Agency.name)))
        for agency in agencies:
            enqueue_replan(session, agency)
        session.commit()
    return len(agencies)
